"""Waits until the machine is idle: CPU idle above THRESHOLD % over one second.

    wait_idle.py [MAX_SECONDS] [THRESHOLD]

Gives up after MAX_SECONDS (default 30) with a warning on stderr; prints the
last idle percentage on stdout either way, and exits 0 when idle was reached, 1 otherwise.
"""
import sys
import time


def sample():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)  # idle + iowait, total


def main():
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 90
    deadline = time.monotonic() + limit
    idle0, total0 = sample()
    pct = 0.0
    while time.monotonic() < deadline:
        time.sleep(1)
        idle1, total1 = sample()
        pct = 100.0 * (idle1 - idle0) / max(1, total1 - total0)
        idle0, total0 = idle1, total1
        if pct >= threshold:
            print(f"{pct:.0f}")
            return 0
    sys.stderr.write(f"warning: machine still busy after {limit:.0f}s (CPU idle {pct:.0f}% < {threshold:.0f}%); "
                     "proceeding, figures will be noisy\n")
    print(f"{pct:.0f}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
