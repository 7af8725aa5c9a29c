"""Waits until the machine is idle: CPU idle above THRESHOLD % over one second.

    wait_idle.py [MAX_SECONDS] [THRESHOLD]

Gives up after MAX_SECONDS (default 30). Prints JSON: the last idle percentage,
whether the threshold was reached, the load average, and the seconds waited.
"""
import json
import sys
import time


def sample():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)  # idle + iowait, total


def main():
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 90
    start = time.monotonic()
    deadline = start + limit
    idle0, total0 = sample()
    pct = 0.0
    while time.monotonic() < deadline:
        time.sleep(1)
        idle1, total1 = sample()
        pct = 100.0 * (idle1 - idle0) / max(1, total1 - total0)
        idle0, total0 = idle1, total1
        if pct >= threshold:
            break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(json.dumps({"cpu_idle_pct": round(pct), "reached": pct >= threshold, "loadavg": load,
                      "waited_s": round(time.monotonic() - start)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
