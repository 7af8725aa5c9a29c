"""Self cost per function from a callgrind dump (callgrind_annotate mis-attributes Swift
binaries' costs to `clone`). Usage: callgrind_top.py DUMP [N] [REQUESTS]"""
import re
import subprocess
import sys
from collections import Counter


def parse(path):
    """Self cost per function, and per callee the inclusive cost and call count per caller."""
    costs, callers = Counter(), {}
    fn = cfn = None
    calls = None  # set by a `calls=` line: the next cost line is the call's inclusive cost
    names = {}

    def name(text):
        match = re.match(r"\((\d+)\)(?: (.*))?", text.strip())
        if not match:
            return text.strip()
        if match.group(2):
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), text.strip())

    with open(path, errors="replace") as dump:
        for line in dump:
            if line.startswith("fn="):
                fn = name(line[3:])
            elif line.startswith(("cfn=", "cfi=", "cob=")):
                if line.startswith("cfn="):
                    cfn = name(line[4:])
            elif line.startswith("calls="):
                calls = int(line[6:].split()[0])
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) < 2 or fn is None:
                    continue
                if calls is not None:
                    entry = callers.setdefault(cfn, Counter())
                    entry[(fn, "cost")] += int(parts[1])
                    entry[(fn, "calls")] += calls
                    calls = None
                else:
                    costs[fn] += int(parts[1])
    return costs, callers


def demangle(names):
    """Swift names with `swift demangle`, C++ ones (bench/profile runs valgrind with
    --demangle=no, so that link/hot-sections.txt gets section names) with c++filt."""
    out = list(names)
    for tool, picked in ((["swift", "demangle", "--simplified", "--compact"], lambda n: not n.startswith("_Z")),
                         (["c++filt"], lambda n: n.startswith("_Z"))):
        indices = [i for i, name in enumerate(names) if picked(name)]
        if not indices:
            continue
        try:
            lines = subprocess.run(tool, input="\n".join(names[i] for i in indices), capture_output=True, text=True,
                                   timeout=60).stdout.splitlines()
        except (OSError, subprocess.SubprocessError):
            continue
        if len(lines) == len(indices):
            for i, line in zip(indices, lines):
                out[i] = line
    return out


def main():
    costs, callers = parse(sys.argv[1])
    if len(sys.argv) > 2 and not sys.argv[2].isdigit():
        # callers of every function whose (mangled or demangled) name contains the text
        pattern = sys.argv[2]
        requests = int(sys.argv[3]) if len(sys.argv) > 3 else 1
        for callee, entry in callers.items():
            if callee is None or (pattern not in callee and pattern not in demangle([callee])[0]):
                continue
            print(f"== {demangle([callee])[0][:160]}")
            rows = sorted(((entry[(c, 'cost')], entry[(c, 'calls')], c) for (c, kind) in entry if kind == "cost"), reverse=True)
            for (cost, count, caller), pretty in zip(rows[:15], demangle([r[2] for r in rows[:15]])):
                print(f"   {cost / requests:9.0f} instr/req {count / requests:6.2f} calls/req  {pretty[:150]}")
        return
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    requests = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    total = sum(costs.values())
    items = costs.most_common(top)
    for (name, cost), pretty in zip(items, demangle([n for n, _ in items])):
        per = f"{cost / requests:8.0f}/req " if requests else ""
        print(f"{cost:>14,} {100 * cost / total:5.1f}% {per} {pretty[:150]}")


if __name__ == "__main__":
    main()
