"""Reads an SSE stream from sse_upstream.py (directly or through a proxy) and
measures each event's arrival time minus its send time.

    sse_client.py --port P --path /api/sse/events --n 200 [--interval-ms 10]

Prints JSON: events received, median, p99 and max of arrival - send in µs.
Both ends use time.time_ns() on the same machine.
"""
import argparse
import json
import socket
import time


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else None


class ChunkedDecoder:
    """Incremental decoder for Transfer-Encoding: chunked (or pass-through)."""

    def __init__(self, chunked):
        self.chunked, self.buf, self.left, self.done = chunked, b"", 0, False

    def feed(self, data):
        if not self.chunked:
            return data
        self.buf += data
        out = b""
        while True:
            if self.left > 0:
                take = self.buf[: self.left]
                out += take
                self.buf = self.buf[len(take):]
                self.left -= len(take)
                if self.left > 0:
                    return out
                self.left = -2  # CRLF after the chunk
            if self.left == -2:
                if len(self.buf) < 2:
                    return out
                self.buf, self.left = self.buf[2:], 0
            line, sep, rest = self.buf.partition(b"\r\n")
            if not sep:
                return out
            size = int(line.split(b";")[0], 16)
            self.buf = rest
            if size == 0:
                self.done = True
                return out
            self.left = size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--interval-ms", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()

    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(f"GET {a.path}?n={a.n}&interval_ms={a.interval_ms} HTTP/1.1\r\nHost: {a.host}\r\n"
              f"Accept: text/event-stream\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(65536)
        if not data:
            break
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split()[1]) if head else 0
    chunked = b"transfer-encoding: chunked" in head.lower()
    dec, text, delays, error = ChunkedDecoder(chunked), b"", [], None
    data = rest
    try:
        while True:
            now = time.time_ns()
            text += dec.feed(data)
            while b"\n\n" in text:
                event, text = text.split(b"\n\n", 1)
                for line in event.split(b"\n"):
                    if line.startswith(b"data: "):
                        _, sent = line[6:].split()
                        delays.append((now - int(sent)) / 1000)
            if dec.done or len(delays) >= a.n:
                break
            data = s.recv(65536)
            if not data:
                break
    except OSError as e:
        error = repr(e)
    s.close()
    print(json.dumps({
        "status": status, "events": len(delays), "expected": a.n, "error": error,
        "p50_us": round(percentile(delays, 50), 1) if delays else None,
        "p99_us": round(percentile(delays, 99), 1) if delays else None,
        "max_us": round(max(delays), 1) if delays else None,
    }))


if __name__ == "__main__":
    main()
