# Lossless restarts and upgrades (issue 13): SIGUSR2 re-exec, socket activation.
# Included from CMakeLists.txt; same conventions as the tests there.
foreach(t reexec reexec_fail reexec_notify reexec_sources socket_activation)
  add_test(NAME integration_${t}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_${t}.py)
  set_tests_properties(integration_${t} PROPERTIES
    TIMEOUT 120
    ENVIRONMENT "UP_BINARY=$<TARGET_FILE:udp-proxy>;PYTHONDONTWRITEBYTECODE=1"
    SKIP_RETURN_CODE 77
    LABELS "integration;threaded")
endforeach()
set_tests_properties(integration_reexec PROPERTIES RUN_SERIAL TRUE) # 20,000/s: alone on the 2 cores
set_tests_properties(integration_reexec_fail PROPERTIES TIMEOUT 240) # ~50 s under TSan alone
