"""Checks report.py's arithmetic on made-up measurements: the median of each round's ratio and
the targets verdict. Run by .ci/run (bench/run itself is too long for CI).

    python3 bench/lib/test_report.py
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402


def run(label, round_, rps, p99, cpu, kind="small", mib=None, load=None):
    data = {"label": label, "kind": kind, "round": round_, "rps": rps, "p50_ms": 1.0,
            "p99_ms": p99, "mib_per_s": mib, "cpu_us_per_req": cpu, "user_us_per_req": cpu / 3,
            "non2xx": 0, "socket_errors": {}, "rss_kb": 1000, "proxy_alive": True}
    if load is not None:
        data["load_core_busy_pct"] = load  # wrkrun.py leaves it out on a 1-core machine
    return {"label": label, "data": data}


def wrk_runs(gateway, nginx):
    """gateway / nginx: per round (rps, p99, cpu); 1 MiB runs at 1000 MiB/s each, gateway 1100."""
    runs = []
    for i, ((g_rps, g_p99, g_cpu), (n_rps, n_p99, n_cpu)) in enumerate(zip(gateway, nginx), start=1):
        runs += [run("gateway", i, g_rps, g_p99, g_cpu), run("nginx", i, n_rps, n_p99, n_cpu)]
        for t in ("direct", "haproxy"):
            runs.append(run(t, i, 1000, 1.0, 10))
        for t, mib in (("gateway", 1100), ("nginx", 1000), ("direct", 1200), ("haproxy", 900)):
            runs.append(run(t, i, 10, 5.0, 100, kind="file", mib=mib))
    return report.summarise_wrk(runs)


MEMORY = {"gateway": {"rest_kb": 13 * 1024, "idle_conns_kb": 30 * 1024, "end_of_load_kb": 20 * 1024},
          "nginx": {"rest_kb": 16 * 1024, "idle_conns_kb": 17 * 1024, "end_of_load_kb": 16 * 1024},
          "haproxy": {"rest_kb": 15 * 1024, "idle_conns_kb": 16 * 1024, "end_of_load_kb": 16 * 1024}}
STREAM = {"gateway": {"rss_kb_before": 30 * 1024, "rss_kb_peak": 34 * 1024}}
SSE = {"gateway_added": {"p50_us": 150.0, "p99_us": 400.0}}


def verdicts(rows):
    return {r["target"]: r["met"] for r in rows}


class PairedTests(unittest.TestCase):
    def test_a_slow_phase_shared_by_both_cancels_in_the_paired_ratio(self):
        # Gateway 10 % faster in every round, but its median round falls in the slow phase.
        gateway = [(22000, 4.0, 40), (33000, 3.0, 30), (22000, 4.0, 40), (33000, 3.0, 30), (22000, 4.0, 40)]
        nginx = [(20000, 4.4, 44), (30000, 3.3, 33), (30000, 3.3, 33), (30000, 3.3, 33), (20000, 4.4, 44)]
        wrk = wrk_runs(gateway, nginx)
        ratio = wrk["small"]["gateway/nginx"]
        self.assertLess(ratio["rps"], 1.0)  # 22,000 / 30,000: slow phase against fast
        self.assertAlmostEqual(ratio["paired"]["rps"], 1.1, places=2)
        self.assertAlmostEqual(ratio["paired"]["p99_ms"], 0.909, places=2)
        self.assertAlmostEqual(ratio["paired"]["cpu_us_per_req"], 0.909, places=2)

    def test_rounds_missing_on_one_side_are_left_out(self):
        wrk = wrk_runs([(11000, 3.0, 30)] * 3, [(10000, 3.0, 30)] * 2)
        self.assertAlmostEqual(wrk["small"]["gateway/nginx"]["paired"]["rps"], 1.1, places=2)


class LoadCoreTests(unittest.TestCase):
    def test_the_load_core_figure_is_the_median_of_the_rounds(self):
        runs = [run("gateway", i, 30000, 3.0, 30, load=busy) for i, busy in enumerate((97.0, 88.5, 93.0), start=1)]
        runs += [run("nginx", i, 30000, 3.0, 30) for i in (1, 2, 3)]
        small = report.summarise_wrk(runs)["small"]
        self.assertEqual(small["gateway"]["load_core_busy_pct"], 93.0)
        self.assertIsNone(small["nginx"]["load_core_busy_pct"])


class TargetsTests(unittest.TestCase):
    def test_all_met(self):
        wrk = wrk_runs([(33000, 3.0, 30)] * 3, [(30000, 3.3, 33)] * 3)
        rows = report.targets(wrk, MEMORY, STREAM, SSE)
        self.assertEqual(len(rows), 8)
        self.assertTrue(all(verdicts(rows).values()), rows)

    def test_each_miss_is_reported(self):
        wrk = wrk_runs([(29000, 3.4, 34)] * 3, [(30000, 3.3, 33)] * 3)
        memory = {**MEMORY, "gateway": {"rest_kb": 17 * 1024, "idle_conns_kb": 65 * 1024, "end_of_load_kb": 0}}
        stream = {"gateway": {"rss_kb_before": 30 * 1024, "rss_kb_peak": 47 * 1024}}
        sse = {"gateway_added": {"p50_us": 1001.0, "p99_us": 2000.0}}
        met = verdicts(report.targets(wrk, memory, stream, sse))
        self.assertEqual([name for name, ok in met.items() if ok], ["MiB/s, 1 MiB file, gateway/nginx"])

    def test_a_missing_measurement_is_not_a_pass(self):
        wrk = wrk_runs([(33000, 3.0, 30)] * 3, [(30000, 3.3, 33)] * 3)
        rows = report.targets(wrk, MEMORY, {}, {})
        met = verdicts(rows)
        self.assertIsNone(met["RSS added streaming, MiB"])
        self.assertIsNone(met["SSE added latency p50, ms"])


if __name__ == "__main__":
    unittest.main()
