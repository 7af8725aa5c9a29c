"""Runs a command (a download) while sampling a process's resident memory.

    rss_watch.py --root-pid PID [--every-ms 10] -- curl ...

Prints JSON: VmRSS before, the peak (max of samples every few ms, and VmHWM
after resetting it through /proc/PID/clear_refs when allowed), VmRSS after,
the command's stdout (stripped) and exit code, and the wall time.
"""
import argparse
import json
import subprocess
import time

import proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root-pid", type=int, required=True)
    ap.add_argument("--every-ms", type=float, default=10)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

    pids = proc.tree(a.root_pid)
    hwm_reset = all(proc.reset_hwm(p) for p in pids)
    before = proc.rss_kb(pids)
    peak = before
    t0 = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while child.poll() is None:
        peak = max(peak, proc.rss_kb(proc.tree(a.root_pid)))
        if time.monotonic() - t0 > a.timeout:
            child.kill()
        time.sleep(a.every_ms / 1000)
    out, err = child.communicate()
    wall = time.monotonic() - t0
    pids = proc.tree(a.root_pid)
    hwm = sum(proc.status_kb(p, "VmHWM") for p in pids) if hwm_reset else None
    print(json.dumps({
        "rc": child.returncode, "stdout": out.strip(), "stderr": err.strip()[-300:], "seconds": round(wall, 2),
        "rss_kb_before": before, "rss_kb_peak_sampled": peak, "vmhwm_kb_after_reset": hwm,
        "rss_kb_peak": max(peak, hwm or 0), "rss_kb_after": proc.rss_kb(pids),
    }))


if __name__ == "__main__":
    main()
