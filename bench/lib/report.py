"""Turns the measurements of one bench/run into a table (stdout) and a JSON file.

    report.py --records records.jsonl --out bench/results/latest.json [run facts...]

Each record is {"type", "label", "data"}; wrk records are summarised as medians
over the rounds, errors as sums.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import time

TARGETS = ["direct", "nginx", "haproxy", "gateway"]
PROXIES = ["nginx", "haproxy", "gateway"]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


PAIRED = ("rps", "p50_ms", "p99_ms", "mib_per_s", "cpu_us_per_req")


def paired(gateway_rounds, other_rounds):
    """Median over the rounds of gateway ÷ other, each round's figures against each other: the
    two ran within the same round, so a drift of the machine's speed between rounds cancels."""
    other = {r.get("round"): r for r in other_rounds}
    out = {}
    for key in PAIRED:
        ratios = [g[key] / other[g.get("round")][key] for g in gateway_rounds
                  if g.get("round") in other and g.get(key) is not None and other[g.get("round")].get(key)]
        out[key] = round(statistics.median(ratios), 3) if ratios else None
    return out


def targets(wrk, memory, stream, sse):
    """Issue 6's targets, judged on the median of each round's ratio (`paired`): nginx and the
    gateway run back to back in every round, so that figure is the one a drift of the machine's
    speed between rounds does not move. Each row: name, measured, limit, met (None: not measured)."""
    ps, pf = wrk["small"]["gateway/nginx"]["paired"], wrk["file"]["gateway/nginx"]["paired"]
    g_stream = stream.get("gateway", {})
    added = None
    if g_stream.get("rss_kb_peak") is not None and g_stream.get("rss_kb_before") is not None:
        added = round((g_stream["rss_kb_peak"] - g_stream["rss_kb_before"]) / 1024, 1)
    g_mem, n_mem = memory["gateway"], memory["nginx"]
    idle = g_mem["idle_conns_kb"]
    sse_p50 = sse.get("gateway_added", {}).get("p50_us")
    rows = [  # name, measured, ">=" or "<=", limit
        ("req/s, 100-byte response, gateway/nginx", ps["rps"], ">=", 1.0),
        ("p99, 100-byte response, gateway/nginx", ps["p99_ms"], "<=", 1.0),
        ("CPU per request, gateway/nginx", ps["cpu_us_per_req"], "<=", 1.0),
        ("MiB/s, 1 MiB file, gateway/nginx", pf["mib_per_s"], ">=", 1.0),
        ("RSS at rest, gateway/nginx", ratio(g_mem["rest_kb"], n_mem["rest_kb"]), "<=", 1.0),
        ("RSS with idle connections, MiB", None if idle is None else round(idle / 1024, 1), "<=", 64),
        ("RSS added streaming, MiB", added, "<=", 16),
        ("SSE added latency p50, ms", None if sse_p50 is None else round(sse_p50 / 1000, 3), "<=", 1),
    ]
    return [{"target": name, "measured": v, "limit": f"{op} {limit:g}",
             "met": None if v is None else (v >= limit if op == ">=" else v <= limit)}
            for name, v, op, limit in rows]


def version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (p.stdout + p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None


def machine(root):
    cpu = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    git = version(["git", "-C", root, "rev-parse", "--short", "HEAD"])
    dirty = bool(subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "Sources", "Package.swift"],
                                capture_output=True, text=True).stdout.strip())
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
        "mem_total_kb": int(open("/proc/meminfo").readline().split()[1]),
        "nginx": version(["nginx", "-v"]), "haproxy": version(["haproxy", "-v"]),
        "wrk": version(["wrk", "-v"]), "curl": version(["curl", "--version"]),
        "swift": version(["swift", "--version"]), "python": platform.python_version(),
        "git_commit": git, "sources_dirty": dirty,
    }


def summarise_wrk(runs):
    out = {}
    for kind in ("small", "file"):
        out[kind] = {}
        for t in TARGETS:
            rs = [r for r in runs if r["label"] == t and r["data"].get("kind") == kind]
            d = [r["data"] for r in rs]
            rps = [x.get("rps") for x in d]
            errors = sum(x.get("non2xx", 0) + sum(x.get("socket_errors", {}).values()) for x in d)
            med = median(rps)
            out[kind][t] = {
                "rounds": len(d),
                "rps": med,
                "rps_spread_pct": round(100 * (max(rps) - min(rps)) / med, 1) if med and None not in rps else None,
                "p50_ms": median([x.get("p50_ms") for x in d]),
                "p99_ms": median([x.get("p99_ms") for x in d]),
                "mib_per_s": median([x.get("mib_per_s") for x in d]),
                "cpu_us_per_req": median([x.get("cpu_us_per_req") for x in d]),
                "user_us_per_req": median([x.get("user_us_per_req") for x in d]),
                "rss_kb_after_run": median([x.get("rss_kb") for x in d]),
                "other_on_proxy_core_pct": median([x.get("other_on_proxy_core_pct") for x in d]),
                "load_core_busy_pct": median([x.get("load_core_busy_pct") for x in d]),
                "non2xx": sum(x.get("non2xx", 0) for x in d),
                "socket_errors": {k: sum(x.get("socket_errors", {}).get(k, 0) for x in d)
                                  for k in ("connect", "read", "write", "timeout")},
                "errors": errors,
                "proxy_died": any(x.get("proxy_alive") is False for x in d),
                "per_round": d,
            }
    for kind in out:
        g = out[kind]["gateway"]
        for other in ("nginx", "haproxy"):
            o = out[kind][other]
            out[kind][f"gateway/{other}"] = {
                "rps": ratio(g["rps"], o["rps"]), "p50_ms": ratio(g["p50_ms"], o["p50_ms"]),
                "p99_ms": ratio(g["p99_ms"], o["p99_ms"]), "mib_per_s": ratio(g["mib_per_s"], o["mib_per_s"]),
                "cpu_us_per_req": ratio(g["cpu_us_per_req"], o["cpu_us_per_req"]),
                "paired": paired(g["per_round"], o["per_round"]),
            }
    return out


def gateway_log(path):
    if not path or not os.path.exists(path):
        return {"lines": 0, "problems": 0, "first_problems": []}
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    bad = [l for l in lines if re.search(r"\b(warning|error|critical|fatal|crash)\b", l, re.I)]
    return {"lines": len(lines), "problems": len(bad), "first_problems": bad[:8]}


def fmt(v, spec="{:.0f}", none="-"):
    return none if v is None else spec.format(v)


def mib(kb):
    return None if kb is None else kb / 1024


def main():
    ap = argparse.ArgumentParser()
    for name in ("records", "out", "build", "binary", "pinning", "gateway-log", "root"):
        ap.add_argument("--" + name, required=name in ("records", "out"))
    for name in ("rounds", "duration", "file-duration", "conns", "file-conns", "idle-conns", "sse-events", "sse-repeats", "stream-bytes"):
        ap.add_argument("--" + name, type=int)
    a = ap.parse_args()

    recs = [json.loads(l) for l in open(a.records) if l.strip()]
    by = lambda typ: {r["label"]: r["data"] for r in recs if r["type"] == typ}
    wrk = summarise_wrk([r for r in recs if r["type"] == "wrk"])
    rest, end, idle, stream = by("rss_rest"), by("rss_end"), by("idle_conns"), by("stream")
    sse = {}
    for t in ("direct", "nginx", "gateway"):  # medians over the repeats
        runs = [r["data"] for r in recs if r["type"] == "sse" and r["label"] == t]
        if runs:
            sse[t] = {"repeats": len(runs), "events": sum(x.get("events") or 0 for x in runs),
                      "expected": sum(x.get("expected") or 0 for x in runs),
                      "error": next((x["error"] for x in runs if x.get("error")), None),
                      **{k: median([x.get(k) for x in runs]) for k in ("p50_us", "p99_us", "max_us")},
                      "per_run": runs}
    for d in stream.values():  # curl -w '%{http_code} %{size_download} %{speed_download}'
        parts = d.get("stdout", "").split()
        if len(parts) == 3:
            d["http_code"], d["bytes"] = int(parts[0]), int(parts[1])
            d["mib_per_s"] = round(float(parts[2]) / 1048576, 1)
    direct_sse = sse.get("direct", {})
    if sse.get("gateway", {}).get("p50_us") is not None and direct_sse.get("p50_us") is not None:
        sse["gateway_added"] = {k: round(sse["gateway"][k] - direct_sse[k], 1) for k in ("p50_us", "p99_us")}
    if sse.get("nginx", {}).get("p50_us") is not None and direct_sse.get("p50_us") is not None:
        sse["nginx_added"] = {k: round(sse["nginx"][k] - direct_sse[k], 1) for k in ("p50_us", "p99_us")}
    memory = {t: {"rest_kb": rest.get(t, {}).get("rss_kb"), "idle_conns_kb": idle.get(t, {}).get("rss_kb_idle"),
                  "end_of_load_kb": end.get(t, {}).get("rss_kb")} for t in PROXIES}
    glog = gateway_log(a.gateway_log)
    shutdown = by("shutdown").get("gateway", {})
    idle_machine = by("idle").get("machine", {})

    built = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(os.path.getmtime(a.binary))) \
        if a.binary and os.path.exists(a.binary) else None
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(a.root or "."),
        "run": {"build": a.build, "binary": a.binary, "binary_built": built, "pinning": a.pinning, "rounds": a.rounds,
                "duration_s": a.duration, "file_duration_s": a.file_duration, "connections": a.conns,
                "file_connections": a.file_conns, "idle_connections": a.idle_conns, "sse_events": a.sse_events,
                "sse_repeats": a.sse_repeats,
                "stream_bytes": a.stream_bytes, "gateway_access_log": False, "gateway_workers": 1,
                "idle_before_load": idle_machine},
        "small": wrk["small"], "file_1mib": wrk["file"], "memory": memory, "idle_connections": idle,
        "sse": sse, "stream": stream, "gateway_shutdown": shutdown, "gateway_log": glog,
        "targets": targets(wrk, memory, stream, sse),
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)

    # ------------------------------------------------------------ table
    m = result["machine"]
    P = print
    P(f"kilo-gateway bench  {result['when']}  commit {m['git_commit']}{' (Sources modified)' if m['sources_dirty'] else ''}")
    P(f"machine: {m['nproc']} cores {m['cpu']}, kernel {m['kernel']}; pinning: {a.pinning}")
    P(f"idle before load: {idle_machine.get('cpu_idle_pct')}% CPU idle "
      f"({'reached' if idle_machine.get('reached') else 'NOT reached: noisy'}), loadavg {idle_machine.get('loadavg')}")
    P(f"gateway: {a.build}; binary built {built} (the commit above is the tree now); workers: 1; access log OFF")
    P(f"{m['nginx']}; {m['haproxy']}; {m['wrk']}")
    P(f"medians of {a.rounds} rounds; wrk -t1 -c{a.conns} -d{a.duration}s (100 B) and -c{a.file_conns} -d{a.file_duration}s (1 MiB)")
    P()
    P(f"{'':18}{'--- 100-byte response ---------------------------------------------':>62}  {'--- 1 MiB file ----------':>26}")
    P(f"{'':18}{'req/s':>10}{'±%':>6}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}{'errors':>8}{'RSS MiB':>9}"
      f"  {'MiB/s':>9}{'CPU µs/req':>12}{'errors':>7}")
    for t in TARGETS + ["gateway/nginx", "gateway/haproxy"]:
        s, f_ = wrk["small"][t], wrk["file"][t]
        if "/" in t:
            P(f"{t:18}{fmt(s['rps'], '{:.2f}'):>10}{'':>6}{fmt(s['p50_ms'], '{:.2f}'):>9}{fmt(s['p99_ms'], '{:.2f}'):>9}"
              f"{fmt(s['cpu_us_per_req'], '{:.2f}'):>12}{'':>8}{'':>9}  {fmt(f_['mib_per_s'], '{:.2f}'):>9}"
              f"{fmt(f_['cpu_us_per_req'], '{:.2f}'):>12}")
            continue
        name = "direct (upstream)" if t == "direct" else t
        P(f"{name:18}{fmt(s['rps']):>10}{fmt(s['rps_spread_pct']):>6}{fmt(s['p50_ms'], '{:.2f}'):>9}"
          f"{fmt(s['p99_ms'], '{:.2f}'):>9}{fmt(s['cpu_us_per_req'], '{:.1f}'):>12}{s['errors']:>8}"
          f"{fmt(mib(s['rss_kb_after_run']), '{:.1f}'):>9}  {fmt(f_['mib_per_s']):>9}"
          f"{fmt(f_['cpu_us_per_req'], '{:.0f}'):>12}{f_['errors']:>7}")
    P("  CPU µs/req: utime+stime of the proxy's processes (direct: the upstream's) per request; "
      "±%: max-min of req/s over rounds / median;")
    P("  errors: non-2xx + socket errors summed over rounds; RSS: after the run. Ratios: gateway ÷ other (req/s: higher is better).")
    for other in ("nginx", "haproxy"):
        ps, pf = wrk["small"][f"gateway/{other}"]["paired"], wrk["file"][f"gateway/{other}"]["paired"]
        P(f"  gateway/{other}, median of each round's ratio: req/s {fmt(ps['rps'], '{:.2f}')}, "
          f"p50 {fmt(ps['p50_ms'], '{:.2f}')}, p99 {fmt(ps['p99_ms'], '{:.2f}')}, CPU {fmt(ps['cpu_us_per_req'], '{:.2f}')}; "
          f"1 MiB: MiB/s {fmt(pf['mib_per_s'], '{:.2f}')}, CPU {fmt(pf['cpu_us_per_req'], '{:.2f}')}")
    user = {t: wrk["small"][t].get("user_us_per_req") for t in TARGETS}
    if any(v is not None for v in user.values()):
        P("  of which user space, 100-byte response (the rest is the kernel): "
          + ", ".join(f"{t} {fmt(v, '{:.1f}')}" for t, v in user.items()) + " µs/req")
    noise = {t: wrk["small"][t]["other_on_proxy_core_pct"] for t in PROXIES}
    if any(v is not None for v in noise.values()):
        P("  other work on the proxy's core during its runs (median %): "
          + ", ".join(f"{t} {fmt(v)}" for t, v in noise.items()) + "  (0 = quiet machine)")
    load = {t: wrk["small"][t]["load_core_busy_pct"] for t in TARGETS}
    if any(v is not None for v in load.values()):
        P("  the load core (wrk and the upstream) was busy during the 100-byte runs (median %): "
          + ", ".join(f"{t} {fmt(v)}" for t, v in load.items()) + "  (near 100: requests queue there too)")
    P()
    P(f"{'memory VmRSS MiB':18}{'at rest':>10}{f'{a.idle_conns} idle conns':>18}{'KiB/conn':>10}{'end of load':>13}")
    for t in PROXIES:
        mm, i = memory[t], idle.get(t, {})
        note = ""
        if i.get("failures") or i.get("closed_by_proxy_while_idle") or i.get("non200"):
            note = f"  ({i.get('open')} open, {i.get('failures')} failed, {i.get('non200')} non-200, " \
                   f"{i.get('closed_by_proxy_while_idle')} closed by proxy)"
        P(f"{t:18}{fmt(mib(mm['rest_kb']), '{:.1f}'):>10}{fmt(mib(mm['idle_conns_kb']), '{:.1f}'):>18}"
          f"{fmt(i.get('rss_kb_per_conn'), '{:.1f}'):>10}{fmt(mib(mm['end_of_load_kb']), '{:.1f}'):>13}{note}")
    P("  nginx: master + worker summed.")
    P()
    P(f"{f'SSE, {a.sse_events} events 10 ms apart, x{a.sse_repeats}':34}{'events':>8}{'p50 µs':>10}{'p99 µs':>10}{'max µs':>10}   arrival − send")
    for t in ("direct", "nginx", "gateway"):
        d = sse.get(t, {})
        P(f"{t:34}{str(d.get('events', '-')) + '/' + str(d.get('expected', '-')):>8}{fmt(d.get('p50_us')):>10}{fmt(d.get('p99_us')):>10}{fmt(d.get('max_us')):>10}"
          f"{'   ' + str(d.get('error')) if d.get('error') else ''}")
    for t in ("nginx", "gateway"):
        if f"{t}_added" in sse:
            P(f"{t + ' added (− direct)':34}{'':>8}{fmt(sse[t + '_added']['p50_us']):>10}{fmt(sse[t + '_added']['p99_us']):>10}")
    P("  medians over the repeats; events = received / sent in all. p99 differences are noise-dominated on a busy machine.")
    P()
    size = f"{a.stream_bytes / 2**30:.0f} GiB" if a.stream_bytes and a.stream_bytes >= 2**30 else f"{a.stream_bytes} B"
    P(f"{'stream ' + size:18}{'MiB/s':>10}{'status':>8}{'RSS before':>12}{'peak RSS':>10}{'after':>8}   (MiB; direct = upstream nginx)")
    for t in TARGETS:
        d = stream.get(t, {})
        short = d.get("bytes") is not None and a.stream_bytes and d["bytes"] != a.stream_bytes
        P(f"{t:18}{fmt(d.get('mib_per_s')):>10}{fmt(d.get('http_code')):>8}{fmt(mib(d.get('rss_kb_before')), '{:.1f}'):>12}"
          f"{fmt(mib(d.get('rss_kb_peak')), '{:.1f}'):>10}{fmt(mib(d.get('rss_kb_after')), '{:.1f}'):>8}"
          f"{'   SHORT: ' + str(d.get('bytes')) + ' bytes' if short else ''}{'   ' + d['stderr'] if d.get('stderr') else ''}")
    P()
    sd = shutdown
    P(f"gateway SIGTERM: exit code {sd.get('exit_code')} after {sd.get('seconds')} s"
      f"{'; DIED BEFORE THE END OF THE RUN' if sd.get('died_before_end') else ''}; "
      f"log: {glog['lines']} lines, {glog['problems']} warning/error lines")
    for line in glog["first_problems"]:
        P("  " + line[:200])
    P()
    rows = result["targets"]
    met = sum(1 for r in rows if r["met"])
    P(f"targets (issue 6; ratios: median of each round's gateway/nginx): {met} of {len(rows)} met")
    for r in rows:
        verdict = "not measured: see bench/results/latest-logs/steps.log" if r["met"] is None else ("met" if r["met"] else "MISSED")
        P(f"  {r['target']:42}{fmt(r['measured'], '{:.2f}'):>8}  {r['limit']:>8}  {verdict}")
    died = [t for t in TARGETS for k in ("small", "file") if wrk[k][t]["proxy_died"]]
    if died:
        P(f"PROCESS DIED DURING LOAD: {', '.join(sorted(set(died)))}")


if __name__ == "__main__":
    main()
