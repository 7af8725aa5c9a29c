"""Reads CPU time and memory of processes from /proc (Linux only).

Used as a module by the other helpers, and from bash:
    proc.py tree PID        PID and all its descendants, comma-separated
    proc.py rss PIDS        summed VmRSS in KiB of the comma-separated PIDs
    proc.py cpu PIDS        summed utime+stime in seconds
"""
import os
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_pids(text):
    return [int(p) for p in str(text).split(",") if p.strip()]


def children(pid):
    """Direct children of pid, from /proc/PID/task/*/children."""
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    found += [int(c) for c in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return found


def tree(pid):
    """pid and every descendant (nginx: master and workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def cpu_seconds(pids):
    """utime + stime of every pid (all threads included), in seconds."""
    user, system = cpu_split(pids)
    return user + system


def cpu_split(pids):
    """(utime, stime) of every pid (all threads included) summed, in seconds."""
    user = system = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                # the command name may hold spaces: fields start after the last ')'
                fields = f.read().rsplit(")", 1)[1].split()
            user += int(fields[11])  # utime (field 14)
            system += int(fields[12])  # stime (field 15)
        except (OSError, IndexError):
            pass
    return user / CLK_TCK, system / CLK_TCK


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pids):
    return sum(status_kb(p, "VmRSS") for p in pids)


def reset_hwm(pid):
    """Resets VmHWM (peak RSS) to the current RSS; False when not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


if __name__ == "__main__":
    cmd, arg = sys.argv[1], sys.argv[2]
    if cmd == "tree":
        print(",".join(str(p) for p in tree(int(arg))))
    elif cmd == "rss":
        print(rss_kb(parse_pids(arg)))
    elif cmd == "cpu":
        print(f"{cpu_seconds(parse_pids(arg)):.2f}")
    else:
        sys.exit(f"unknown command {cmd}")
