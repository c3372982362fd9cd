# tests/integration/walk.cmake - the new-user walkthrough's leftovers (issue
# 10, finding 28): the log lines that name who sent what. Included from
# tests/integration/CMakeLists.txt; up_ops_test comes from ops.cmake.
up_ops_test(walk_logs walk_logs.py)
