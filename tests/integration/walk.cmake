# tests/integration/walk.cmake - the new-user walkthrough's leftovers (issue
# 10): the log lines that name who sent what (finding 28), the README
# explaining every stats-line field (finding 20). Included from
# tests/integration/CMakeLists.txt; up_ops_test comes from ops.cmake.
up_ops_test(walk_logs walk_logs.py)
# Every stats-line field is explained in the README's "What it counts" table (finding 20).
add_test(NAME pkg_readme_counters
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/pkg/test_readme_counters.py $<TARGET_FILE:udp-proxy>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(pkg_readme_counters PROPERTIES TIMEOUT 60 LABELS "pkg;threaded")
# No authoring notes in the user docs, no tracked build leftovers (finding 25).
add_test(NAME pkg_docs_hygiene COMMAND sh ${PROJECT_SOURCE_DIR}/tests/pkg/test_docs_hygiene.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(pkg_docs_hygiene PROPERTIES TIMEOUT 30 LABELS pkg)
