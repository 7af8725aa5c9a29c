"""Opens N keep-alive connections to a proxy, sends one request on each, then
holds them all idle and reads the proxy's resident memory.

    idle_conns.py --port P --path /api/bench/small --n 1000 --root-pid PID [--settle 2]

Prints JSON: connections opened and answered (200), failures, the proxy's VmRSS
before opening and with all of them open and idle, and whether every
connection was still open when the reading was taken.
"""
import argparse
import json
import select
import socket
import time

import proc


def read_response(sock):
    """Reads one response with a Content-Length body; returns the status code."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        body += chunk
    return status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/api/bench/small")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--root-pid", type=int, required=True)
    ap.add_argument("--settle", type=float, default=2.0)
    a = ap.parse_args()

    pids = proc.tree(a.root_pid)
    before = proc.rss_kb(pids)
    request = f"GET {a.path} HTTP/1.1\r\nHost: {a.host}:{a.port}\r\nConnection: keep-alive\r\n\r\n".encode()
    socks, failures, non200, first_error = [], 0, 0, None
    t0 = time.monotonic()
    for _ in range(a.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((a.host, a.port))
            s.sendall(request)
            if read_response(s) != 200:
                non200 += 1
            socks.append(s)
        except (OSError, ValueError, IndexError) as e:
            failures += 1
            first_error = first_error or repr(e)
            s.close()
    opened_in = time.monotonic() - t0
    time.sleep(a.settle)
    pids = proc.tree(a.root_pid)
    with_idle = proc.rss_kb(pids)
    # a readable idle socket means the proxy closed it (EOF) while we waited
    readable, _, _ = select.select(socks, [], [], 0) if socks else ([], [], [])
    for s in socks:
        s.close()
    print(json.dumps({
        "requested": a.n, "open": len(socks), "failures": failures, "non200": non200,
        "first_error": first_error, "closed_by_proxy_while_idle": len(readable),
        "open_seconds": round(opened_in, 2), "rss_kb_before": before, "rss_kb_idle": with_idle,
        "rss_kb_per_conn": round((with_idle - before) / max(1, len(socks)), 2),
    }))


if __name__ == "__main__":
    main()
