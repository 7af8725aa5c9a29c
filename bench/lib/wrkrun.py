"""Runs one wrk command and measures the proxy around it.

    wrkrun.py --label NAME --round N --kind small --root-pid PID -- taskset -c 1 wrk ...

Reads utime+stime of the proxy (root pid and its descendants) before and after,
parses wrk's --latency output, and prints one JSON object on stdout: requests/s,
p50/p99 in ms, transfer MiB/s, CPU seconds and CPU µs per request, VmRSS after,
non-2xx responses and socket errors. With --proxy-core N it also reports how
busy core N was with anything other than the proxy (other_on_proxy_core_pct):
the noise from other work on the machine. With --load-core N it reports how busy
core N (wrk and the upstream) was (load_core_busy_pct): near 100, requests queue
there and that queueing is part of every latency figure. wrk's own output goes
to stderr.
"""
import argparse
import json
import re
import subprocess
import sys

import proc

TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}
SIZE_UNITS = {"B": 1 / 1048576, "KB": 1 / 1024, "MB": 1.0, "GB": 1024.0, "TB": 1048576.0}  # wrk uses 1024


def ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * TIME_UNITS[m.group(2)] if m else None


def core_times(core):
    """(busy, total) jiffies of one core from /proc/stat; idle and iowait count as not busy."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                v = [int(x) for x in line.split()[1:9]]  # user nice system idle iowait irq softirq steal
                return sum(v) - v[3] - v[4], sum(v)
    return None


def core_seconds(before, after):
    """(busy, total) seconds of a core between two `core_times` readings, or None."""
    if not before or not after or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / proc.CLK_TCK, (after[1] - before[1]) / proc.CLK_TCK


def parse(out):
    r = {"requests": 0, "rps": None, "p50_ms": None, "p99_ms": None, "mib_per_s": None,
         "non2xx": 0, "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
    if m := re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+)(\w+) read", out):
        r["requests"] = int(m.group(1))
        r["duration_ms"] = ms(m.group(2))
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        r["rps"] = float(m.group(1))
    if m := re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out):
        r["mib_per_s"] = float(m.group(1)) * SIZE_UNITS.get(m.group(2), 0)
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        if m := re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M):
            r[key] = ms(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        r["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        r["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--kind", required=True)
    ap.add_argument("--round", type=int, default=0)
    ap.add_argument("--root-pid", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--proxy-core", type=int)
    ap.add_argument("--load-core", type=int)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

    pids = proc.tree(a.root_pid)
    user0, sys0 = proc.cpu_split(pids)
    cpu0 = user0 + sys0
    core0 = core_times(a.proxy_core) if a.proxy_core is not None else None
    load0 = core_times(a.load_core) if a.load_core is not None else None
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
        out, rc = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), "timeout"
    pids = proc.tree(a.root_pid)  # nginx may have respawned a worker
    user1, sys1 = proc.cpu_split(pids)
    cpu1 = user1 + sys1
    core1 = core_times(a.proxy_core) if core0 else None
    load1 = core_times(a.load_core) if load0 else None
    sys.stderr.write(out)

    r = parse(out)
    r.update(label=a.label, kind=a.kind, round=a.round, wrk_rc=rc,
             cpu_s=round(cpu1 - cpu0, 3), rss_kb=proc.rss_kb(pids),
             proxy_alive=proc.alive(a.root_pid))
    r["cpu_us_per_req"] = round((cpu1 - cpu0) / r["requests"] * 1e6, 2) if r["requests"] else None
    r["user_us_per_req"] = round((user1 - user0) / r["requests"] * 1e6, 2) if r["requests"] else None
    if proxy_core := core_seconds(core0, core1):
        busy_s, total_s = proxy_core
        r["other_on_proxy_core_pct"] = round(max(0.0, 100 * (busy_s - (cpu1 - cpu0)) / total_s), 1)
    if load_core := core_seconds(load0, load1):
        busy_s, total_s = load_core
        r["load_core_busy_pct"] = round(100 * busy_s / total_s, 1)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
