"""Writes gold's --section-ordering-file for link/release-flags from two callgrind dumps of the
gateway: the code a steady load runs, most instructions first, then what only the first
proxied request ran (connecting upstream, setting up the pipelines).
Usage: hot_sections.py STEADY_DUMP FIRST_REQUEST_DUMP > link/hot-sections.txt"""
import sys

from callgrind_top import parse

HEADER = """\
# The code a proxied request runs, laid out first and together by the linker (gold's
# --section-ordering-file; link/release-flags). Each line names a function's section (every
# function has its own: -function-sections). Written by `bench/profile --hot-sections` from
# callgrind: the functions a steady load ran, most instructions first, then those only the
# first request ran. A stale line only leaves its function where it was: regenerate after
# changes to the request path.
"""


def main():
    steady, first = sys.argv[1], sys.argv[2]
    seen, order = set(), []
    for dump in (steady, first):
        costs, _ = parse(dump)
        for name, cost in sorted(costs.items(), key=lambda item: -item[1]):
            # Names valgrind could not resolve are addresses; an unnamed function has no section to name.
            if cost <= 0 or name in seen or name.startswith("0x") or " " in name:
                continue
            seen.add(name)
            order.append(name)
    sys.stdout.write(HEADER)
    for name in order:
        sys.stdout.write(".text." + name + "\n")


if __name__ == "__main__":
    main()
