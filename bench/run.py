#!/usr/bin/env python3
"""bench/run.py - the udp-proxy benchmark behind `make bench` (see bench/README.md).

Side by side in one run, on loopback, with two targets (two udp-sink processes):
  udp-proxy  at its defaults (the same --rcvbuf as the others)
  naive      bench/naive.c: recvfrom one datagram, sendto each target in turn
  batched    bench/batched.c: recvmmsg a batch, sendmmsg it to each target

Matrix: offered rates from 10k/s doubling up to the load generator's own maximum (and one run at its
maximum), REPS repetitions, the three proxies interleaved within each repetition (their order rotates)
so machine drift hits all alike. Per run: delivered % per target (unique sequence numbers received
over datagrams sent), proxy CPU seconds (utime+stime from /proc/PID/stat) per million datagrams the
proxy received, peak RSS (VmHWM). Then two fault scenarios, the idle CPU of udp-proxy, and the
report: results/RESULTS.md, results/raw.csv, results/delivered.png (gnuplot).

BENCH_QUICK=1: a ~2 minute smoke run (fewer rates, one repetition, 1 s per point).
Every process started here is bounded in time and killed on exit. Loopback only.
"""
import atexit
import csv
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
from udptools import free_port, last_kv, wait_bound  # noqa: E402

BUILD = os.path.abspath(os.environ.get("BUILD", os.path.join(ROOT, "build")))
OUT = os.path.abspath(os.environ.get("BENCH_OUT", os.path.join(HERE, "results")))
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")

RCVBUF = "4M"  # the same source receive buffer for every proxy
SINK_RCVBUF = "32M"  # sinks never the bottleneck (their own drops are reported anyway)
SECONDS = 1.0 if QUICK else 2.5  # traffic per run
REPS = 1 if QUICK else 3
LOSS_LIMIT = 0.1  # percent: a run is lossless below this on both targets
IDLE_SECONDS = 3 if QUICK else 10
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The machine is shared: every process of the benchmark (load generator, sinks, all three proxies
# alike) runs at this niceness when we may raise priority (root), so other people's jobs disturb it
# less. BENCH_NICE=0 turns it off.
NICE = int(os.environ.get("BENCH_NICE", "-10"))
PROXIES = ["udp-proxy", "naive", "batched"]
# Packing (issue 11): udp-proxy with both targets at max-datagram=8192 against the unpacked runs above and a
# minimal reference that packs the same way (bench/packed.c). BENCH_PACKING=0 leaves them out.
PACKING = os.environ.get("BENCH_PACKING", "1") not in ("", "0")
PACKED_OPTS = {"udp-proxy-packed": ",max-datagram=8192", "udp-proxy-otel": ",dialect=otel,max-datagram=8192"}
if PACKING:
    PROXIES += ["udp-proxy-packed", "packed"]
# Candidate builds of udp-proxy to run side by side with the others (same flags as udp-proxy):
# BENCH_EXTRA="name=/path/to/udp-proxy,other=/path/...". For comparing a change to the data path.
EXTRA = dict(kv.split("=", 1) for kv in os.environ.get("BENCH_EXTRA", "").split(",") if "=" in kv)
PROXIES += list(EXTRA)
# Overrides for experiments: BENCH_RATES="20000,40000" (plus no 'max' point), BENCH_REPS=N,
# BENCH_MATRIX_ONLY=1 (no fault scenarios, no idle measurement).
RATES = [int(r) for r in os.environ.get("BENCH_RATES", "").split(",") if r]
REPS = int(os.environ.get("BENCH_REPS", REPS))
MATRIX_ONLY = os.environ.get("BENCH_MATRIX_ONLY", "") not in ("", "0")

children = []


def cleanup():
    for p in children:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)
                p.kill()
                p.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    children.append(p)
    return p


def finish(p, timeout):
    """Wait for p (killing it after timeout); returns (stdout, stderr)."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    children.remove(p)
    return out, err


def proc_cpu(pid):
    """utime + stime of the whole process, seconds (fields 14 and 15 of /proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_ctxsw(pid):
    """Context switches (voluntary + involuntary) of all the process's threads so far."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                n += sum(int(ln.split()[1]) for ln in f if "ctxt_switches" in ln)
        except OSError:
            pass
    return n


def proc_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1])
    return 0


def ours(name):
    return name == "udp-proxy" or name in EXTRA or name in PACKED_OPTS


def proxy_cmd(name, src, targets):
    tg = []
    for t in targets:
        tg += ["--target", t + PACKED_OPTS.get(name, "")]
    if ours(name):
        return [EXTRA.get(name, os.path.join(BUILD, "udp-proxy")), "--source", src, *tg, "--rcvbuf", RCVBUF]
    return [os.path.join(BUILD, "bench", name), "--source", src, *tg, "--rcvbuf", RCVBUF]


def proxy_received(name, err):
    """Datagrams the proxy took from its socket, from its exit report, and its counters
    (udp-proxy: per target, as t1_<counter>, t2_<counter>)."""
    lines = [ln for ln in err.splitlines() if ("final totals" in ln if ours(name) else "received=" in ln)]
    if not lines:
        return None, {}
    parts = lines[-1].split(" target=")
    f = last_kv(parts[0])
    for i, part in enumerate(parts[1:], 1):
        for k, v in last_kv("target=" + part).items():
            f["t%d_%s" % (i, k)] = v
    # Shaped targets: "final lines: target=NAME lines_in=..." (one line each, in target order).
    for i, ln in enumerate([ln for ln in err.splitlines() if "final lines:" in ln], 1):
        for k, v in last_kv(ln.split("final lines: ", 1)[1]).items():
            f["t%d_%s" % (i, k)] = v
    return int(f.get("received", 0)), f


def softnet_drops():
    """Datagrams the kernel dropped in its per-CPU input backlog (all CPUs): a loss on loopback that
    neither the proxy nor the sinks can see."""
    with open("/proc/net/softnet_stat") as f:
        return sum(int(ln.split()[1], 16) for ln in f)


def sink_cmd(port, expect, rcvbuf=SINK_RCVBUF):
    return [os.path.join(BUILD, "udp-sink"), "--listen", "127.0.0.1:%d" % port, "--rcvbuf", rcvbuf,
            "--expect", str(expect), "--idle-timeout", "1.5", "--max-seconds", str(int(SECONDS * 4 + 20))]


def loadgen_cmd(port, count, rate, seed):
    return [os.path.join(BUILD, "udp-loadgen"), "--target", "127.0.0.1:%d" % port, "--count", str(count),
            "--rate", str(rate), "--seed", str(seed), "--max-seconds", str(int(SECONDS * 3 + 5))]


def run_one(name, rate, rep, scenario="matrix", ports=None):
    """One run of proxy `name` at `rate` (an int, or 'max'). Returns a result row (dict)."""
    src, p1, p2 = ports or (free_port(), free_port(), free_port())
    count = int((LOADGEN_MAX if rate == "max" else rate) * SECONDS)
    seed = 1000 * rep + 1
    sinks = [spawn(sink_cmd(p1, count))]
    if scenario == "dead_target":
        pass  # nothing listens on target 2
    elif scenario == "stopped_target":
        sinks.append(spawn(sink_cmd(p2, count, rcvbuf="64K")))
    else:
        sinks.append(spawn(sink_cmd(p2, count)))
    for s, port in zip(sinks, (p1, p2)):
        wait_bound(port, proc=s)
    proxy = spawn(proxy_cmd(name, "127.0.0.1:%d" % src, ["127.0.0.1:%d" % p1, "127.0.0.1:%d" % p2]))
    wait_bound(src, proc=proxy)
    time.sleep(0.2)  # threads up
    cpu0, ctx0 = proc_cpu(proxy.pid), proc_ctxsw(proxy.pid)
    backlog0 = softnet_drops()
    lg = spawn(loadgen_cmd(src, count, rate, seed))
    if scenario == "stopped_target":
        time.sleep(SECONDS / 3)
        os.kill(sinks[1].pid, signal.SIGSTOP)  # target 2 stops reading mid-run
    lg_out, lg_err = finish(lg, SECONDS * 3 + 15)
    if scenario == "stopped_target":
        sink1 = finish(sinks[0], SECONDS * 4 + 25)
        cpu1, ctx1 = proc_cpu(proxy.pid), proc_ctxsw(proxy.pid)
        os.kill(sinks[1].pid, signal.SIGCONT)
        results = [sink1, finish(sinks[1], SECONDS * 4 + 25)]
    else:
        results = [finish(s, SECONDS * 4 + 25) for s in sinks]
        cpu1, ctx1 = proc_cpu(proxy.pid), proc_ctxsw(proxy.pid)
    hwm = proc_hwm_kib(proxy.pid)
    proxy.send_signal(signal.SIGTERM)
    p_out, p_err = finish(proxy, 10)
    received, pstats = proxy_received(name, p_err)
    lgk = last_kv(lg_out)
    sent = int(lgk.get("sent", 0))
    row = {"scenario": scenario, "proxy": name, "rate": rate, "rep": rep, "count": count, "sent": sent,
           "bytes": int(lgk.get("bytes", 0)),
           "loadgen_rate": float(lgk.get("rate", 0)), "proxy_received": received,
           "proxy_kernel_drops": pstats.get("kernel_drops", ""), "backlog_drops": softnet_drops() - backlog0,
           "cpu_s": round(cpu1 - cpu0, 3),
           "vmhwm_kib": hwm, "proxy_exit": proxy.returncode,
           "sent_packets": sum(int(pstats.get("t%d_sent_packets" % i, 0)) for i in (1, 2)),
           "lines_in": sum(int(pstats.get("t%d_lines_in" % i, 0)) for i in (1, 2))}
    row["cpu_s_per_M"] = round((cpu1 - cpu0) / received * 1e6, 3) if received else ""
    row["ctxsw_per_1k"] = round((ctx1 - ctx0) / received * 1e3, 1) if received else ""
    for i in (1, 2):
        k = last_kv(results[i - 1][0]) if i <= len(results) else {}
        uniq = int(k.get("unique", 0))
        row["t%d_unique" % i] = uniq if k else ""
        row["t%d_pct" % i] = round(100.0 * uniq / sent, 3) if (k and sent) else ""
        row["t%d_dup" % i] = k.get("duplicates", "")
        row["t%d_corrupt" % i] = k.get("corrupt", "")
        row["t%d_sink_drops" % i] = k.get("kernel_drops", "")
        row["t%d_queue_full" % i] = pstats.get("t%d_dropped_queue_full" % i, "")
        row["t%d_send_error" % i] = pstats.get("t%d_dropped_send_error" % i, "")
    if proxy.returncode != 0:
        print("  ! %s exited %s: %s" % (name, proxy.returncode, p_err.strip()[-300:]), file=sys.stderr)
    return row


def measure_loadgen_max():
    """The generator's own maximum: as fast as possible into one sink (median of runs)."""
    rates = []
    for rep in range(REPS):
        port = free_port()
        n = 2000000
        s = spawn([os.path.join(BUILD, "udp-sink"), "--listen", "127.0.0.1:%d" % port, "--rcvbuf", SINK_RCVBUF,
                   "--idle-timeout", "1", "--max-seconds", "30"])
        wait_bound(port, proc=s)
        lg = spawn([os.path.join(BUILD, "udp-loadgen"), "--target", "127.0.0.1:%d" % port, "--count", str(n),
                    "--rate", "max", "--max-seconds", str(SECONDS), "--seed", str(rep + 1)])
        out, _ = finish(lg, 30)
        finish(s, 35)
        rates.append(float(last_kv(out)["rate"]))
    return statistics.median(rates), rates


def idle_cpu():
    """% of one core udp-proxy uses over IDLE_SECONDS with no traffic (two targets)."""
    src = free_port()
    proxy = spawn(proxy_cmd("udp-proxy", "127.0.0.1:%d" % src, ["127.0.0.1:%d" % free_port(),
                                                                 "127.0.0.1:%d" % free_port()]))
    wait_bound(src, proc=proxy)
    time.sleep(1)
    c0, t0 = proc_cpu(proxy.pid), time.time()
    time.sleep(IDLE_SECONDS)
    c1, t1 = proc_cpu(proxy.pid), time.time()
    proxy.send_signal(signal.SIGTERM)
    finish(proxy, 10)
    return 100.0 * (c1 - c0) / (t1 - t0), c1 - c0, t1 - t0


def worst_pct(r):
    vals = [r[k] for k in ("t1_pct", "t2_pct") if r[k] != ""]
    return min(vals) if vals else 0.0


def lossless(r):
    return all(r[k] != "" and r[k] > 100.0 - LOSS_LIMIT for k in ("t1_pct", "t2_pct"))


def med(vals):
    vals = [v for v in vals if v not in ("", None)]
    return statistics.median(vals) if vals else None


def fmt(v, spec="%.1f"):
    return "n/a" if v is None else spec % v


def rate_label(rate, achieved=None):
    if rate == "max":
        return "max (%s)" % ("%.0fk" % (achieved / 1000) if achieved else "?")
    return "%gk" % (rate / 1000)


def main():
    global LOADGEN_MAX
    for b in ("udp-proxy", "udp-loadgen", "udp-sink", "bench/naive", "bench/batched", "bench/packed"):
        if not os.access(os.path.join(BUILD, b), os.X_OK):
            sys.exit("bench: %s/%s is missing: run `make` first" % (BUILD, b))
    os.makedirs(OUT, exist_ok=True)
    if NICE and os.geteuid() == 0:
        os.nice(NICE)
    started = time.time()
    load0 = os.getloadavg()
    print("bench: %s run, %d repetition(s), %.1f s of traffic per point" % ("quick" if QUICK else "full", REPS,
                                                                              SECONDS), flush=True)

    LOADGEN_MAX, lg_runs = measure_loadgen_max()
    print("bench: loadgen maximum %.0f datagrams/s (runs: %s)" % (LOADGEN_MAX, ", ".join("%.0f" % r for r in lg_runs)),
          flush=True)
    rates, r = [], 10000
    while r <= LOADGEN_MAX:
        rates.append(r)
        r *= 2
    if QUICK:
        rates = rates[::2]
    if not rates or LOADGEN_MAX > 1.25 * rates[-1]:
        rates.append("max")  # one run as fast as the generator goes, when that is clearly above the last doubling
    if RATES:
        rates = RATES

    rows = []
    for rep in range(REPS):
        for rate in rates:
            k = rep % len(PROXIES)
            order = PROXIES[k:] + PROXIES[:k]
            for name in order:
                row = run_one(name, rate, rep)
                rows.append(row)
                print("  rep %d %-9s %-8s sent %7d (%6.0f/s)  t1 %7.3f%%  t2 %7.3f%%  cpu %.2f s/M  rss %d KiB"
                      "  proxy kernel_drops %s queue_full %s/%s" % (
                          rep, name, rate_label(rate, row["loadgen_rate"]), row["sent"], row["loadgen_rate"],
                          row["t1_pct"] or 0, row["t2_pct"] or 0, row["cpu_s_per_M"] or 0, row["vmhwm_kib"],
                          row["proxy_kernel_drops"] or "-", row["t1_queue_full"] or "-", row["t2_queue_full"] or "-"),
                      flush=True)

    # Highest lossless rate per proxy: every run at that rate lost < LOSS_LIMIT % on both targets.
    def highest_lossless(name):
        best = None
        for rate in rates:
            rr = [x for x in rows if x["proxy"] == name and x["rate"] == rate]
            if rr and all(lossless(x) for x in rr):
                best = rate if rate != "max" else med([x["loadgen_rate"] for x in rr])
        return best

    hl = {n: highest_lossless(n) for n in PROXIES}
    fault_rate = hl["udp-proxy"] if isinstance(hl["udp-proxy"], int) else 10000
    fault_rate = max(10000, min(fault_rate, 80000))
    print("bench: fault scenarios at %d datagrams/s" % fault_rate, flush=True)
    # The shaping cost of an otel target: both targets dialect=otel,max-datagram=8192 against the same
    # packing without shaping, at the highest rate udp-proxy-packed kept lossless (or 100k/s). The sinks
    # cannot check shaped lines (delivery is not measured here); CPU is reported per million input lines.
    otel_rate = 100000
    if PACKING:
        for rep in range(REPS):
            row = run_one("udp-proxy-otel", otel_rate, rep, "otel_cost")
            rows.append(row)
            print("  rep %d udp-proxy-otel %dk  cpu %.2f s/M datagrams  lines_in %d" % (
                rep, otel_rate // 1000, row["cpu_s_per_M"] or 0, row["lines_in"]), flush=True)

    for rep in range(0 if MATRIX_ONLY else REPS):
        for scenario in ("dead_target", "stopped_target"):
            for name in PROXIES[:3] + [n for n in EXTRA if n in PROXIES]:
                row = run_one(name, fault_rate, rep, scenario)
                rows.append(row)
                print("  rep %d %-9s %-15s t1 %7.3f%%  t2 %s" % (rep, name, scenario, row["t1_pct"] or 0,
                                                                  row["t2_pct"]), flush=True)

    idle_pct, idle_cpu_s, idle_wall = idle_cpu() if not MATRIX_ONLY else (0.0, 0.0, 0.0)
    print("bench: udp-proxy idle CPU %.3f%% of one core (%.2f s over %.1f s)" % (idle_pct, idle_cpu_s, idle_wall))
    load1 = os.getloadavg()

    fields = list(rows[0].keys())
    with open(os.path.join(OUT, "raw.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    write_report(rows, rates, hl, fault_rate, (idle_pct, idle_cpu_s, idle_wall), (LOADGEN_MAX, lg_runs),
                 (load0, load1), time.time() - started)
    plot(rows, rates)
    print("bench: done in %.0f s: %s" % (time.time() - started, os.path.join(OUT, "RESULTS.md")))


def matrix(rows, name, rate):
    return [x for x in rows if x["scenario"] == "matrix" and x["proxy"] == name and x["rate"] == rate]


def write_report(rows, rates, hl, fault_rate, idle, lgmax, loads, elapsed):
    L = []
    L.append("# udp-proxy benchmark results\n")
    L.append("Generated by `%s` on %s UTC in %.0f s. Machine: %d CPUs, Linux %s, load average %.2f at start, "
             "%.2f at end (the machine is shared: read medians and ratios, not single runs).\n" % (
                 "BENCH_QUICK=1 make bench" if QUICK else "make bench",
                 time.strftime("%Y-%m-%d %H:%M", time.gmtime()), elapsed, os.cpu_count(), platform.release(),
                 loads[0][0], loads[1][0]))
    L.append("Setup: loopback, two targets (two `udp-sink`, %s receive buffers), every proxy with `--rcvbuf %s`, "
             "%d repetition(s), %.1f s of traffic per point, proxies interleaved within each repetition. "
             "`udp-loadgen` sends the DogStatsD mix (1%% large datagrams; mean size %.0f bytes). "
             "Delivered %% = unique sequence numbers a target received / datagrams sent. CPU = utime+stime of "
             "the proxy process (/proc/PID/stat, %d ticks/s) per million datagrams it received. "
             "RSS = VmHWM. All processes at niceness %d (BENCH_NICE).\n" % (
                 SINK_RCVBUF, RCVBUF, REPS, SECONDS,
                 sum(x["bytes"] for x in rows) / max(1, sum(x["sent"] for x in rows)), CLK_TCK, os.nice(0)))
    L.append("Load generator maximum (alone, into one sink): **%.0f datagrams/s** (median; runs %s).\n" % (
        lgmax[0], ", ".join("%.0f" % r for r in lgmax[1])))

    # Summary against the goals of issue 3.
    cpu = {}
    for name in PROXIES:
        cpu[name] = med([x["cpu_s_per_M"] for x in rows if x["scenario"] == "matrix" and x["proxy"] == name
                         and lossless(x)])
    L.append("## Summary\n")
    L.append("| proxy | highest lossless rate (every run < %.1f%% loss on both targets) | CPU s per million "
             "(median over its lossless runs) | peak RSS (max, MiB) |" % LOSS_LIMIT)
    L.append("|---|---:|---:|---:|")
    for name in PROXIES:
        h = hl[name]
        hwm = max([x["vmhwm_kib"] for x in rows if x["proxy"] == name] or [0]) / 1024
        L.append("| %s | %s | %s | %.1f |" % (name, "none" if h is None else "%.0f/s" % h, fmt(cpu[name], "%.2f"),
                                               hwm))
    L.append("")

    # Per-rate CPU ratio udp-proxy / batched, at rates where both were lossless in every run.
    ratios = []
    for rate in rates:
        a, b = matrix(rows, "udp-proxy", rate), matrix(rows, "batched", rate)
        if a and b and all(lossless(x) for x in a + b):
            ma, mb = med([x["cpu_s_per_M"] for x in a]), med([x["cpu_s_per_M"] for x in b])
            if ma and mb:
                ratios.append((rate, ma / mb))
    ratio = med([r for _, r in ratios])
    faults = [x for x in rows if x["scenario"] != "matrix" and x["proxy"] == "udp-proxy"]
    fault_ok = faults and all(x["t1_pct"] == 100.0 for x in faults)

    def num(h):
        return h if isinstance(h, (int, float)) else 0

    L.append("## Goals\n")
    L.append("| goal | measured | met |")
    L.append("|---|---|---|")
    L.append("| CPU per million: udp-proxy <= 1.25 x batched | %s (median of per-rate ratios at rates where both "
             "were lossless: %s) | %s |" % (
                 fmt(ratio, "%.2f x"), ", ".join("%s %.2f" % (rate_label(r), q) for r, q in ratios) or "none",
                 "yes" if ratio is not None and ratio <= 1.25 else "no"))
    L.append("| highest lossless rate >= batched's | udp-proxy %s vs batched %s | %s |" % (
        fmt(hl["udp-proxy"], "%.0f/s"), fmt(hl["batched"], "%.0f/s"),
        "yes" if num(hl["udp-proxy"]) >= num(hl["batched"]) and hl["udp-proxy"] else "no"))
    L.append("| highest lossless rate >= 4 x naive's | udp-proxy %s vs 4 x %s | %s |" % (
        fmt(hl["udp-proxy"], "%.0f/s"), fmt(hl["naive"], "%.0f/s"),
        "yes" if hl["udp-proxy"] and num(hl["udp-proxy"]) >= 4 * num(hl["naive"]) else "no"))
    L.append("| fault scenarios: 100%% to the healthy target | %s | %s |" % (
        ", ".join("%s %.3f%%" % (x["scenario"], x["t1_pct"] or 0) for x in faults),
        "yes" if fault_ok else "no"))
    L.append("| idle <= 0.5%% of one core over %d s | %.3f%% (%.2f CPU s in %.1f s) | %s |\n" % (
        IDLE_SECONDS, idle[0], idle[1], idle[2], "yes" if idle[0] <= 0.5 else "no"))
    if not QUICK and (hl["batched"] is not None and rates and num(hl["batched"]) >= num(LOADGEN_MAX) * 0.9):
        L.append("Note: the batched reference stayed lossless up to the load generator's maximum, so its real "
                 "limit on this machine is higher than measured here.\n")

    if PACKING:
        L += packing_report(rows, rates, otel_rate=100000)
    L.append("![delivered % against offered rate](delivered.png)\n")
    L.append("## Matrix (medians over repetitions; delivered % shows median and, in brackets, the worst run)\n")
    L.append("| offered rate | achieved | proxy | target 1 delivered % | target 2 delivered % | CPU s per million |"
             " context switches per 1,000 | peak RSS MiB | lossless in all runs |")
    L.append("|---|---:|---|---:|---:|---:|---:|---:|---|")
    for rate in rates:
        for name in PROXIES:
            rr = matrix(rows, name, rate)
            if not rr:
                continue
            ach = med([x["loadgen_rate"] for x in rr])
            L.append("| %s | %.0f/s | %s | %s (%s) | %s (%s) | %s | %s | %.1f | %s |" % (
                rate_label(rate, ach), ach, name,
                fmt(med([x["t1_pct"] for x in rr]), "%.2f"), fmt(min(x["t1_pct"] or 0 for x in rr), "%.2f"),
                fmt(med([x["t2_pct"] for x in rr]), "%.2f"), fmt(min(x["t2_pct"] or 0 for x in rr), "%.2f"),
                fmt(med([x["cpu_s_per_M"] for x in rr]), "%.2f"), fmt(med([x["ctxsw_per_1k"] for x in rr]), "%.0f"),
                (med([x["vmhwm_kib"] for x in rr]) or 0) / 1024,
                "yes" if all(lossless(x) for x in rr) else "no"))
    L.append("")
    L.append("## Fault scenarios at %d datagrams/s\n" % fault_rate)
    L.append("dead_target: nothing listens on target 2. stopped_target: target 2's sink has a 64 KiB receive buffer "
             "and is SIGSTOPped a third of the way into the run (resumed after target 1 finished). "
             "Target 1 must receive 100%.\n")
    L.append("| scenario | proxy | target 1 delivered % (each run) | target 2 delivered % (each run) | "
             "proxy socket kernel drops (each run) | udp-proxy target 1 queue-full drops |")
    L.append("|---|---|---|---|---|---|")
    for scenario in ("dead_target", "stopped_target"):
        for name in PROXIES:
            rr = [x for x in rows if x["scenario"] == scenario and x["proxy"] == name]
            L.append("| %s | %s | %s | %s | %s | %s |" % (
                scenario, name, ", ".join("%.3f" % (x["t1_pct"] or 0) for x in rr),
                ", ".join("%.3f" % (x["t2_pct"] or 0) for x in rr),
                ", ".join(str(x["proxy_kernel_drops"]) for x in rr),
                ", ".join(str(x["t1_queue_full"]) for x in rr) if name == "udp-proxy" else "-"))
    L.append("")
    sink_drops = sum(int(x["t%d_sink_drops" % i] or 0) for x in rows for i in (1, 2) if x["scenario"] == "matrix")
    bad = sum(int(x["t%d_%s" % (i, k)] or 0) for x in rows for i in (1, 2) for k in ("dup", "corrupt"))
    crashes = [x for x in rows if x["proxy_exit"] != 0]
    L.append("Integrity: %d duplicate or corrupt datagrams in all runs; %d datagrams dropped by the sinks' own "
             "sockets in the matrix (a sink-side loss, not the proxy's); %d proxy runs that did not exit 0 on "
             "SIGTERM.\n" % (bad, sink_drops, len(crashes)))
    L.append("Raw data: [raw.csv](raw.csv) (one row per run).\n")
    with open(os.path.join(OUT, "RESULTS.md"), "w") as f:
        f.write("\n".join(L))


def packing_report(rows, rates, otel_rate):
    """The goals of issue 11 at each rate where the runs compare."""
    L = ["## Packing (issue 11)\n",
         "`udp-proxy-packed`: udp-proxy with `--target ADDR,max-datagram=8192` on both targets; `packed`: "
         "bench/packed.c, recvmmsg + the same packing + sendmmsg, packed once for both targets. Delivered and "
         "loss count original datagrams (the sink splits packed datagrams and checks each one). Goals at 100k/s "
         "of the mix: CPU per million received <= 0.6 x the unpacked batched reference, <= 1.25 x the packing "
         "reference, loss 0.\n",
         "| offered rate | udp-proxy-packed CPU s/M | / batched (goal <= 0.6) | / packed ref (goal <= 1.25) | "
         "/ udp-proxy unpacked | datagrams out per datagram in | lossless in all runs |",
         "|---|---:|---:|---:|---:|---:|---|"]
    for rate in rates:
        a = matrix(rows, "udp-proxy-packed", rate)
        if not a:
            continue
        ca = med([x["cpu_s_per_M"] for x in a])
        def ratio(name):
            b = med([x["cpu_s_per_M"] for x in matrix(rows, name, rate)])
            return fmt(ca / b if ca and b else None, "%.2f")
        per = med([x["sent_packets"] / (2.0 * x["proxy_received"]) for x in a if x["proxy_received"]])
        L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            rate_label(rate), fmt(ca, "%.2f"), ratio("batched"), ratio("packed"), ratio("udp-proxy"),
            fmt(per, "%.3f"), "yes" if all(lossless(x) for x in a) else "no"))
    o = [x for x in rows if x["scenario"] == "otel_cost"]
    p = matrix(rows, "udp-proxy-packed", otel_rate)
    if o and p:
        lines = med([x["lines_in"] / 2.0 / x["proxy_received"] for x in o if x["proxy_received"]])
        co = med([x["cpu_s_per_M"] for x in o])
        cp = med([x["cpu_s_per_M"] for x in p])
        cost = (co - cp) / (2 * lines) if co and cp and lines else None
        L.append("")
        L.append("Shaping cost of an otel target at %dk/s (both targets `dialect=otel,max-datagram=8192`, %d runs): "
                 "%s CPU s per million datagrams against %s packed without shaping; %.2f lines per datagram; "
                 "**%s CPU s per million lines** per otel target.\n" % (
                     otel_rate // 1000, len(o), fmt(co, "%.2f"), fmt(cp, "%.2f"), lines or 0, fmt(cost, "%.3f")))
    L.append("")
    return L


def plot(rows, rates):
    """delivered.png: per proxy, the median delivered % to the worse target against the rate the load
    generator achieved with that proxy running (median): a proxy that takes the generator's CPU is not
    credited with a rate it was never offered. The 'max' points are drawn unconnected."""
    dat = os.path.join(OUT, "delivered.dat")
    tics = []
    with open(dat, "w") as f:
        f.write(" ".join("x_%s %s" % (n, n) for n in PROXIES) + "\n")
        for rate in [r for r in rates if r != "max"] + [r for r in rates if r == "max"]:
            if rate != "max":
                tics.append('"%gk" %s' % (rate / 1000, rate))
            else:
                f.write("\n\n")  # the max points: a second data block, drawn unconnected
            cols = []
            for name in PROXIES:
                rr = matrix(rows, name, rate)
                v = med([worst_pct(r) for r in rr])
                x = med([r["loadgen_rate"] for r in rr])
                cols += ["NaN", "NaN"] if v is None or x is None else ["%s" % x, "%.3f" % v]
            f.write(" ".join(cols) + "\n")
    xs = [r for r in rates if r != "max"] + [x["loadgen_rate"] for x in rows if x["rate"] == "max"]
    script = """
set terminal pngcairo size 960,600 font ",11"
set output '%s'
set title "Delivered to the worse of two targets vs achieved rate (median of %d runs, loopback, %d CPUs)"
set xlabel "rate achieved by the load generator beside each proxy (datagrams/s, median); open circles: as fast as it could go"
set ylabel "delivered %% (worse target)"
set logscale x 2
set xrange [%f:%f]
set xtics (%s)
set yrange [0:105]
set grid
set key bottom left box
plot for [i=1:%d] '%s' index 0 using (column(2*i-1)):(column(2*i)) with linespoints lw 2 pt 7 lc i \
         title columnheader(2*i), \
     for [i=1:%d] '%s' index 1 using (column(2*i-1)):(column(2*i)) with points pt 6 ps 2 lw 2 lc i notitle
""" % (os.path.join(OUT, "delivered.png"), REPS, os.cpu_count(), min(xs) / 1.3, max(xs) * 1.3, ", ".join(tics),
       len(PROXIES), dat, len(PROXIES), dat)
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        print("bench: gnuplot failed (install gnuplot-nox): %s" % r.stderr.strip(), file=sys.stderr)


def replot():
    """Redraw delivered.png from raw.csv (python3 bench/run.py --replot)."""
    rows = []
    with open(os.path.join(OUT, "raw.csv")) as f:
        for r in csv.DictReader(f):
            for k, v in r.items():
                try:
                    r[k] = int(v) if k == "rate" or v.isdigit() else float(v)
                except ValueError:
                    pass
            rows.append(r)
    rates = []
    for r in rows:
        if r["scenario"] == "matrix" and r["rate"] not in rates:
            rates.append(r["rate"])
    plot(rows, rates)


LOADGEN_MAX = 0

if __name__ == "__main__":
    replot() if sys.argv[1:] == ["--replot"] else main()
