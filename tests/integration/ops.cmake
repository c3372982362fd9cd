# tests/ops.cmake - integration tests of the operations features (issue 6):
# config file, reload, source rebind, DNS re-resolution, Unix datagram
# sockets, --allow. Included from tests/integration/CMakeLists.txt. (The
# config parser's unit test and fuzzer are registered with the others in
# tests/unit and tests/fuzz.)

# up_ops_test(NAME script [args...]): one CTest entry, 120 s, labels
# `integration;threaded` (the daemon runs threads: these also run under TSan).
function(up_ops_test name script)
  add_test(NAME ${name}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/${script} $<TARGET_FILE:udp-proxy> ${ARGN}
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set(env ${UP_PY_TEST_ENV})
  if(UP_SANITIZE STREQUAL "thread")
    # Re-pointing a socket other threads send on: see tests/tsan.supp.
    list(APPEND env
      "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=${CMAKE_CURRENT_SOURCE_DIR}/../tsan.supp")
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT 120 LABELS "integration;threaded" SKIP_RETURN_CODE 77
    ENVIRONMENT "${env}")
endfunction()

up_ops_test(ops_config ops_config.py)
up_ops_test(ops_reload ops_reload.py)
up_ops_test(ops_rebind ops_rebind.py)
up_ops_test(ops_dns ops_dns.py)
up_ops_test(ops_unix_source ops_unix.py source)
up_ops_test(ops_unix_target ops_unix.py target)
up_ops_test(ops_unix_mixed ops_unix.py mixed)
up_ops_test(ops_unix_umask ops_unix_umask.py)
up_ops_test(ops_allow ops_allow.py)

# Logs an operator can run (issue 10 section 2): system error texts, log
# reopening (SIGUSR1, reload), journald priorities, a second stop signal.
up_ops_test(ops_log_errors ops_log_errors.py)
up_ops_test(ops_log_errors_rofs ops_log_errors.py rofs)
up_ops_test(ops_log_reopen ops_log_run.py reopen)
up_ops_test(ops_log_journal ops_log_run.py journal)
up_ops_test(ops_log_second_stop ops_log_run.py second_stop)
up_ops_test(ops_log_logrotate ops_log_run.py logrotate)
up_ops_test(ops_shape_reload ops_shape_reload.py)  # issue 11: a change of target options
