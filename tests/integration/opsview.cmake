# tests/integration/opsview.cmake - the live view and health (issue 10, sections 4, 5, 7):
# per-reader counters, --health-stall, `udp-proxy stats`, the contrib/ Grafana dashboard.
# Included from tests/integration/CMakeLists.txt; each script takes the binary first.
function(up_opsview_test name script)
  add_test(NAME ${name}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/${script} $<TARGET_FILE:udp-proxy> ${ARGN}
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES TIMEOUT 120 LABELS "integration;threaded" SKIP_RETURN_CODE 77)
endfunction()

up_opsview_test(opsview_reader_received opsview_reader_received.py)
up_opsview_test(opsview_health_stall opsview_health_stall.py)
up_opsview_test(opsview_stats opsview_stats.py)
# contrib/: the Prometheus alert rules (promtool check + unit tests) and the Grafana dashboard
# (every query names only exported families and labels of the real binary).
up_opsview_test(contrib_prometheus_rules opsview_prom_rules.py)
set_tests_properties(contrib_prometheus_rules PROPERTIES LABELS "contrib")
up_opsview_test(contrib_grafana_dashboard opsview_grafana.py)
# Every README example that runs udp-proxy runs as written on loopback (tests/pkg/test_readme_examples.py;
# the metrics example for real, in a private network namespace when root).
add_test(NAME pkg_readme_examples
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/pkg/test_readme_examples.py $<TARGET_FILE:udp-proxy>
                 ${PROJECT_SOURCE_DIR}/README.md)
set_tests_properties(pkg_readme_examples PROPERTIES TIMEOUT 90 SKIP_RETURN_CODE 77 LABELS "pkg;threaded")
