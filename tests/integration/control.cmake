# tests/integration/control.cmake - tests of the control paths (issue 9's
# control findings, issue 10's footguns): reload, rebind, resolve, stop,
# the stats lines. Included from tests/integration/CMakeLists.txt; uses
# up_ops_test() from ops.cmake.
up_ops_test(ctl_stats_lines ctl_stats_lines.py)
up_ops_test(ctl_bufsize ctl_bufsize.py)
up_ops_test(ctl_unix_umask ctl_unix_umask.py)
up_ops_test(ctl_reload_metrics ctl_reload_metrics.py)
up_ops_test(ctl_footguns ctl_footguns.py)
up_ops_test(ctl_dns ctl_dns.py)
up_ops_test(ctl_drain_traffic ctl_drain_traffic.py)
up_ops_test(ctl_rebind_load ctl_rebind_load.py)
up_ops_test(ctl_check_config ctl_check_config.py)
