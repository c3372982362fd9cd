# Lossless restarts and upgrades (issue 13): SIGUSR2 re-exec, socket activation.
# Included from CMakeLists.txt; same conventions as the tests there.
foreach(t reexec reexec_fail reexec_notify socket_activation)
  add_test(NAME integration_${t}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_${t}.py)
  set_tests_properties(integration_${t} PROPERTIES
    TIMEOUT 120
    ENVIRONMENT "UP_BINARY=$<TARGET_FILE:udp-proxy>"
    SKIP_RETURN_CODE 77
    LABELS "integration;threaded")
endforeach()
