#!/usr/bin/env python3
"""Cross-checks the rendered manifests, the Dockerfile and the gateway configs.

Called by .ci/check-deploy; prints one `PASS name` / `FAIL name: why` line per check
(`SKIP` for checks that cannot run here) and exits 1 when any check failed.

  check_manifests.py static RENDERED.yaml [--write-config PATH]
      every check that needs no binary; --write-config saves the ConfigMap's gateway.yaml
  check_manifests.py smoke RENDERED.yaml BINARY
      starts `BINARY serve` on the ConfigMap's config (listen moved to a free loopback
      port) and checks that the probe paths answer and that SIGTERM drains in time
  check_manifests.py checksum [--write]
      compares (or rewrites) the pod annotation with sha256 of base/gateway.yaml

The binary's contract (what it serves) is written down here once: CONTRACT.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE_CONFIG = os.path.join(ROOT, "deploy/k8s/base/gateway.yaml")
APP_CONFIG = os.path.join(ROOT, "config/gateway.yaml")
DEPLOYMENT_FILE = os.path.join(ROOT, "deploy/k8s/base/deployment.yaml")
DOCKERFILE = os.path.join(ROOT, "Dockerfile")
DOCKERIGNORE = os.path.join(ROOT, ".dockerignore")

CONTRACT = {
    "readiness_path": "/readyz",       # 200 when ready, 503 while draining
    "liveness_path": "/healthz",       # 200 while alive
    "http_port": 8000,                 # the platform's port
    "tls_port": 8443,
    "namespace": "kilo-guardian",
    "service_name": "kilo-gateway",
    "checksum_annotation": "kilo-gateway/config-checksum",
}

results: list[tuple[str, str, str]] = []


def report(status: str, name: str, why: str = "") -> None:
    results.append((status, name, why))
    print(f"{status} {name}" + (f": {why}" if why else ""), flush=True)


def check(name: str, problems: list[str]) -> None:
    report("FAIL" if problems else "PASS", name, "; ".join(problems))


def parse_duration(text) -> float:
    if isinstance(text, (int, float)):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text).strip():
        raise ValueError(f"not a duration: {text!r}")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def load_rendered(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(docs, kind, name=None):
    return [d for d in docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]


# ---------------------------------------------------------------- Dockerfile -----
def dockerfile_instructions(path: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out, buf = [], ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not buf and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if buf and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            buf += line
            word, _, rest = buf.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            buf = ""
    return out


def exec_form(args: str) -> list[str] | None:
    try:
        value = yaml.safe_load(args)
    except yaml.YAMLError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def config_flag(argv: list[str]) -> str | None:
    for n, arg in enumerate(argv):
        if arg == "--config" and n + 1 < len(argv):
            return argv[n + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return None


def dockerfile_facts():
    ins = dockerfile_instructions(DOCKERFILE)
    stages, current = [], None
    for word, rest in ins:
        if word == "FROM":
            current = {"from": rest, "ins": []}
            stages.append(current)
        elif current is not None:
            current["ins"].append((word, rest))
    return stages


def check_dockerfile(problems_out: dict) -> None:
    problems: list[str] = []
    stages = dockerfile_facts()
    if len(stages) < 2:
        problems.append("not multi-stage")
        check("dockerfile-rules", problems)
        return
    build, final = stages[0], stages[-1]
    image = build["from"].split()[0]
    if not re.match(r"^swift:6(\.\d+)*(-[a-z0-9.-]+)?$", image):
        problems.append(f"build stage is {image}, expected an official swift:6.x image")
    runs = " ".join(r for w, r in build["ins"] if w == "RUN")
    for flag in ("-c release", "--static-swift-stdlib"):
        if flag not in runs:
            problems.append(f"build stage never runs swift build with {flag}")
    final_image = final["from"].split()[0]
    if final_image.startswith("swift:"):
        problems.append("final stage is a Swift toolchain image, not a slim base")
    users = [r for w, r in final["ins"] if w == "USER"]
    if not users:
        problems.append("final stage has no USER")
    else:
        uid = users[-1].split(":")[0]
        if not uid.isdigit() or int(uid) == 0:
            problems.append(f"USER {users[-1]} is not a numeric non-root uid")
    final_runs = " ".join(r for w, r in final["ins"] if w == "RUN")
    if "ca-certificates" not in final_runs:
        problems.append("final stage does not install ca-certificates")
    exposed = {int(p.split("/")[0]) for w, r in final["ins"] if w == "EXPOSE" for p in r.split()}
    for port in (CONTRACT["http_port"], CONTRACT["tls_port"]):
        if port not in exposed:
            problems.append(f"port {port} not EXPOSEd")
    entry = [exec_form(r) for w, r in final["ins"] if w == "ENTRYPOINT"]
    cmd = [exec_form(r) for w, r in final["ins"] if w == "CMD"]
    if not entry or entry[-1] is None:
        problems.append("no exec-form ENTRYPOINT")
    else:
        argv = entry[-1] + (cmd[-1] if cmd and cmd[-1] else [])
        if os.path.basename(argv[0]) != "kilo-gateway" or argv[1:2] != ["serve"]:
            problems.append(f"container runs {argv}, expected kilo-gateway serve --config ...")
        problems_out["docker_config"] = config_flag(argv)
        problems_out["docker_argv"] = argv
    copies = [r.split() for w, r in final["ins"] if w == "COPY"]
    problems_out["docker_config_copies"] = [c[-1] for c in copies if not c[0].startswith("--from")]
    envs = " ".join(r for w, r in final["ins"] if w == "ENV")
    m = re.search(r"KILO_GATEWAY_CONFIG=(\S+)", envs)
    problems_out["docker_env_config"] = m.group(1) if m else None
    try:
        with open(DOCKERIGNORE, encoding="utf-8") as f:
            ignored = {l.strip().rstrip("/") for l in f if l.strip() and not l.startswith("#")}
        if not {".build", "**/.build"} & ignored:
            problems.append(".dockerignore does not exclude .build")
    except OSError:
        problems.append(".dockerignore missing")
    check("dockerfile-rules", problems)


# ---------------------------------------------------------------- manifests ------
def port_number(container: dict, port) -> int | None:
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def preStop_seconds(container: dict) -> float:
    pre = (container.get("lifecycle") or {}).get("preStop") or {}
    if "sleep" in pre:
        return float(pre["sleep"]["seconds"])
    cmd = (pre.get("exec") or {}).get("command") or []
    if cmd and os.path.basename(cmd[0]) == "sleep" and len(cmd) == 2:
        return parse_duration(cmd[1] if not cmd[1].isdigit() else cmd[1] + "s")
    if len(cmd) >= 3 and cmd[:2] in (["/bin/sh", "-c"], ["sh", "-c"]):
        m = re.fullmatch(r"\s*sleep\s+(\d+)\s*", cmd[2])
        if m:
            return float(m.group(1))
    return 0.0


def static_checks(rendered: str, write_config: str | None) -> None:
    docs = load_rendered(rendered)
    facts: dict = {}
    check_dockerfile(facts)

    # --- inventory
    problems = []
    deployments = find(docs, "Deployment", "kilo-gateway")
    services = find(docs, "Service")
    cms = find(docs, "ConfigMap")
    pdbs, hpas = find(docs, "PodDisruptionBudget"), find(docs, "HorizontalPodAutoscaler")
    if len(deployments) != 1:
        problems.append(f"{len(deployments)} Deployments named kilo-gateway")
    for d in docs:
        if d["metadata"].get("namespace") != CONTRACT["namespace"]:
            problems.append(f"{d['kind']}/{d['metadata']['name']} not in namespace {CONTRACT['namespace']}")
    if not any(s["metadata"]["name"] == CONTRACT["service_name"] and s["spec"].get("type", "ClusterIP") == "ClusterIP"
               for s in services):
        problems.append("no ClusterIP Service kilo-gateway")
    if not any(s["spec"].get("type") == "NodePort" for s in services):
        problems.append("no NodePort Service for the tablet")
    if not pdbs or pdbs[0]["spec"].get("minAvailable") != 1:
        problems.append("no PodDisruptionBudget with minAvailable: 1")
    if not hpas:
        problems.append("no HorizontalPodAutoscaler")
    else:
        spec = hpas[0]["spec"]
        if (spec.get("minReplicas"), spec.get("maxReplicas")) != (2, 5):
            problems.append(f"HPA replicas {spec.get('minReplicas')}-{spec.get('maxReplicas')}, expected 2-5")
        if not any(m.get("resource", {}).get("name") == "cpu" for m in spec.get("metrics", [])):
            problems.append("HPA does not scale on CPU")
        ref = spec.get("scaleTargetRef", {})
        if (ref.get("kind"), ref.get("name")) != ("Deployment", "kilo-gateway"):
            problems.append(f"HPA targets {ref}")
    check("manifest-inventory", problems)
    if len(deployments) != 1:
        return
    dep = deployments[0]
    pod = dep["spec"]["template"]["spec"]
    pod_labels = dep["spec"]["template"]["metadata"].get("labels", {})
    containers = pod.get("containers", [])
    gw = next((c for c in containers if c["name"] == "kilo-gateway"), containers[0] if containers else {})

    # --- the config the pods get
    problems = []
    config_volume = config_text = config = None
    args = (gw.get("command") or []) + (gw.get("args") or [])
    argv = args if args else facts.get("docker_argv", [])
    config_path = config_flag(argv) if argv else None
    if not config_path:
        problems.append("the container is not started with --config")
    mounts = gw.get("volumeMounts", [])
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for m in mounts:
        vol = volumes.get(m["name"], {})
        if "configMap" not in vol or not config_path:
            continue
        key = m.get("subPath") or os.path.basename(config_path)
        target = m["mountPath"] if m.get("subPath") else os.path.join(m["mountPath"], key)
        if target == config_path:
            config_volume = vol
            cm = find(docs, "ConfigMap", vol["configMap"]["name"])
            if not cm:
                problems.append(f"mounted ConfigMap {vol['configMap']['name']} is not rendered")
            elif key not in cm[0].get("data", {}):
                problems.append(f"ConfigMap {vol['configMap']['name']} has no key {key}")
            else:
                config_text = cm[0]["data"][key]
    if config_path and config_volume is None:
        problems.append(f"--config {config_path} is not a file of any mounted ConfigMap")
    if facts.get("docker_config") != config_path:
        problems.append(f"Dockerfile runs --config {facts.get('docker_config')}, Deployment {config_path}")
    if config_path not in facts.get("docker_config_copies", []):
        problems.append(f"the image has no default config COPYed to {config_path}")
    if facts.get("docker_env_config") not in (None, config_path):
        problems.append(f"image KILO_GATEWAY_CONFIG={facts.get('docker_env_config')}, expected {config_path}")
    paths = sorted(m["mountPath"].rstrip("/") for m in mounts)
    for a in paths:
        for b in paths:
            if a != b and b.startswith(a + "/"):
                problems.append(f"mount {b} is nested inside mount {a}")
    if config_text is not None:
        try:
            config = yaml.safe_load(config_text)
        except yaml.YAMLError as exc:
            problems.append(f"ConfigMap gateway.yaml is not YAML: {exc}")
    check("config-path", problems)
    if config_text is not None and write_config:
        with open(write_config, "w", encoding="utf-8") as f:
            f.write(config_text)

    # --- ports
    problems = []
    listen_port = None
    if isinstance(config, dict):
        listen = str(config.get("listen", ""))
        m = re.fullmatch(r"\[?([^\]]*)\]?:(\d+)", listen)
        if not m:
            problems.append(f"config listen {listen!r} is not host:port")
        else:
            listen_port = int(m.group(2))
            if m.group(1) in ("127.0.0.1", "localhost", "::1"):
                problems.append(f"config listens on loopback ({listen}); kubelet and Services cannot reach it")
    else:
        problems.append("no config to read listen from")
    http = port_number(gw, "http")
    if http != CONTRACT["http_port"]:
        problems.append(f"containerPort http is {http}, expected {CONTRACT['http_port']}")
    if listen_port is not None and listen_port != http:
        problems.append(f"config listens on {listen_port}, containerPort is {http}")
    container_ports = {p["containerPort"] for p in gw.get("ports", [])}
    for s in services:
        sel = s["spec"].get("selector", {})
        if not sel or any(pod_labels.get(k) != v for k, v in sel.items()):
            problems.append(f"Service {s['metadata']['name']} selector {sel} does not match the pods")
        for p in s["spec"].get("ports", []):
            target = port_number(gw, p.get("targetPort", p.get("port")))
            if target not in container_ports:
                problems.append(f"Service {s['metadata']['name']} targets port {p.get('targetPort')}, "
                                f"not a container port")
            if listen_port is not None and target != listen_port:
                problems.append(f"Service {s['metadata']['name']} targets {target}, gateway listens on {listen_port}")
    main = [s for s in services if s["metadata"]["name"] == CONTRACT["service_name"]]
    if main and CONTRACT["http_port"] not in [p.get("port") for p in main[0]["spec"].get("ports", [])]:
        problems.append(f"Service kilo-gateway does not offer port {CONTRACT['http_port']}")
    for pdb in pdbs:
        sel = pdb["spec"].get("selector", {}).get("matchLabels", {})
        if any(pod_labels.get(k) != v for k, v in sel.items()):
            problems.append("PodDisruptionBudget selector does not match the pods")
    check("ports", problems)

    # --- probes
    problems = []
    for kind, path in (("readinessProbe", CONTRACT["readiness_path"]), ("livenessProbe", CONTRACT["liveness_path"])):
        probe = gw.get(kind)
        if not probe or "httpGet" not in probe:
            problems.append(f"no {kind} httpGet")
            continue
        get = probe["httpGet"]
        if get.get("path") != path:
            problems.append(f"{kind} path {get.get('path')}, the binary serves {path}")
        port = port_number(gw, get.get("port"))
        if port != (listen_port or CONTRACT["http_port"]):
            problems.append(f"{kind} port {get.get('port')} ({port}) is not the listen port {listen_port}")
        if get.get("scheme", "HTTP") != "HTTP":
            problems.append(f"{kind} scheme {get.get('scheme')}")
    check("probes", problems)

    # --- graceful shutdown
    problems = []
    try:
        drain = parse_duration((config or {}).get("drainTimeout", "30s"))
    except ValueError as exc:
        problems.append(str(exc))
        drain = 30.0
    pause = preStop_seconds(gw)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if pause <= 0:
        problems.append("no preStop pause")
    if not grace > drain + pause:
        problems.append(f"terminationGracePeriodSeconds {grace} <= drainTimeout {drain:g} + preStop {pause:g}")
    strategy = dep["spec"].get("strategy", {}).get("rollingUpdate", {})
    if strategy.get("maxUnavailable", "25%") not in (0, "0%"):
        problems.append("rolling update may take a pod away before its replacement is ready")
    if preStop_seconds(gw) and "sleep" in str((gw.get("lifecycle") or {}).get("preStop", {}).get("exec", "")):
        final_from = dockerfile_facts()[-1]["from"]
        if "distroless" in final_from or final_from.startswith("scratch"):
            problems.append(f"preStop runs sleep but the image ({final_from}) has none")
    check("graceful-shutdown", problems)

    # --- security and resources
    problems = []
    psc, csc = pod.get("securityContext", {}), gw.get("securityContext", {})
    if not (psc.get("runAsNonRoot") or csc.get("runAsNonRoot")):
        problems.append("runAsNonRoot not set")
    if csc.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem not true")
    if csc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation not false")
    if "ALL" not in (csc.get("capabilities") or {}).get("drop", []):
        problems.append("capabilities do not drop ALL")
    if csc.get("privileged"):
        problems.append("privileged")
    res = gw.get("resources", {})
    for k in ("cpu", "memory"):
        if k not in res.get("requests", {}):
            problems.append(f"no {k} request")
    if "memory" not in res.get("limits", {}):
        problems.append("no memory limit")
    if dep["spec"].get("replicas") != 2:
        problems.append(f"replicas {dep['spec'].get('replicas')}, expected 2")
    check("security-and-resources", problems)

    # --- old env vars keep working
    problems = []
    refs = [e.get("configMapRef", {}) for e in gw.get("envFrom", [])]
    kc = [r for r in refs if r.get("name") == "kilo-config"]
    if not kc:
        problems.append("envFrom does not load ConfigMap kilo-config")
    elif kc[0].get("optional") is not True:
        problems.append("envFrom kilo-config is not optional: true")
    if isinstance(config, dict):
        for name, svc in (config.get("services") or {}).items():
            url = str((svc or {}).get("url", ""))
            if not re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*:-https?://[^}]+\}", url):
                problems.append(f"service {name} url {url!r} is not ${{VAR:-default}}")
    check("env-overrides", problems)

    # --- checksum annotation
    problems = []
    ann = dep["spec"]["template"]["metadata"].get("annotations", {}).get(CONTRACT["checksum_annotation"])
    if config_text is None:
        problems.append("no config to hash")
    else:
        want = "sha256:" + hashlib.sha256(config_text.encode("utf-8")).hexdigest()
        if ann != want:
            problems.append(f"pod annotation {CONTRACT['checksum_annotation']} is {ann}, config is {want} "
                            f"(run deploy/tools/update-config-checksum)")
    check("config-checksum", problems)

    # --- same services as config/gateway.yaml
    if not os.path.exists(APP_CONFIG):
        if os.environ.get("CI") == "true":
            report("FAIL", "same-services-as-config", "config/gateway.yaml does not exist")
        else:
            report("SKIP", "same-services-as-config", "config/gateway.yaml does not exist yet")
    else:
        problems = []
        with open(APP_CONFIG, encoding="utf-8") as f:
            app = yaml.safe_load(f) or {}
        mine = config if isinstance(config, dict) else {}
        a, b = set((app.get("services") or {})), set((mine.get("services") or {}))
        if a != b:
            problems.append(f"only in config/gateway.yaml: {sorted(a - b)}; only in the ConfigMap: {sorted(b - a)}")
        if (app.get("aliases") or {}) != (mine.get("aliases") or {}):
            problems.append(f"aliases differ: {app.get('aliases')} vs {mine.get('aliases')}")
        check("same-services-as-config", problems)
        for name in sorted(a & b):
            u1 = str((app["services"][name] or {}).get("url"))
            u2 = str((mine["services"][name] or {}).get("url"))
            if u1 != u2:
                print(f"WARN service {name}: config/gateway.yaml url {u1} vs ConfigMap {u2}")


# ---------------------------------------------------------------- smoke ----------
def smoke(rendered: str, binary: str) -> None:
    docs = load_rendered(rendered)
    cm = [d for d in find(docs, "ConfigMap") if "gateway.yaml" in d.get("data", {})]
    text = cm[0]["data"]["gateway.yaml"]
    config = yaml.safe_load(text)
    drain = parse_duration(config.get("drainTimeout", "30s"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text, n = re.subn(r"(?m)^listen:.*$", f"listen: 127.0.0.1:{port}", text)
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gateway.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        log = open(os.path.join(tmp, "log"), "w+", encoding="utf-8")
        proc = subprocess.Popen([binary, "serve", "--config", path], stdout=log, stderr=subprocess.STDOUT)
        try:
            status = {}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    for p in (CONTRACT["liveness_path"], CONTRACT["readiness_path"]):
                        try:
                            with urllib.request.urlopen(f"http://127.0.0.1:{port}{p}", timeout=2) as r:
                                status[p] = r.status
                        except urllib.error.HTTPError as e:
                            status[p] = e.code
                    if all(status.get(p) == 200 for p in (CONTRACT["liveness_path"], CONTRACT["readiness_path"])):
                        break
                    time.sleep(0.2)
                except (urllib.error.URLError, OSError):
                    time.sleep(0.2)
            for p in (CONTRACT["liveness_path"], CONTRACT["readiness_path"]):
                if status.get(p) != 200:
                    problems.append(f"GET {p} answered {status.get(p, 'nothing')} (expected 200)")
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=drain + 5)
                except subprocess.TimeoutExpired:
                    problems.append(f"still running {drain + 5:g}s after SIGTERM with nothing in flight")
            else:
                problems.append(f"serve exited early with status {proc.returncode}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if problems:
                log.seek(0)
                tail = log.read()[-1500:]
                print("  serve output (tail):\n" + "\n".join("    " + l for l in tail.splitlines()))
            log.close()
    check("binary-serves-probe-paths", problems)


# ---------------------------------------------------------------- checksum -------
def checksum(write: bool) -> None:
    with open(BASE_CONFIG, "rb") as f:
        want = "sha256:" + hashlib.sha256(f.read()).hexdigest()
    with open(DEPLOYMENT_FILE, encoding="utf-8") as f:
        text = f.read()
    pattern = re.compile(r'(%s:\s*)"?sha256:[0-9a-f]*"?' % re.escape(CONTRACT["checksum_annotation"]))
    if not pattern.search(text):
        sys.exit(f"{DEPLOYMENT_FILE}: no {CONTRACT['checksum_annotation']} annotation")
    new = pattern.sub(lambda m: f'{m.group(1)}"{want}"', text)
    if write:
        with open(DEPLOYMENT_FILE, "w", encoding="utf-8") as f:
            f.write(new)
        print(f"{CONTRACT['checksum_annotation']}: {want}")
    check("config-checksum", [] if new == text else ["annotation is stale"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("static")
    st.add_argument("rendered")
    st.add_argument("--write-config")
    sm = sub.add_parser("smoke")
    sm.add_argument("rendered")
    sm.add_argument("binary")
    ck = sub.add_parser("checksum")
    ck.add_argument("--write", action="store_true")
    a = ap.parse_args()
    if a.cmd == "static":
        static_checks(a.rendered, a.write_config)
    elif a.cmd == "smoke":
        smoke(a.rendered, a.binary)
    else:
        checksum(a.write)
    return 1 if any(s == "FAIL" for s, _, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
