"""A tiny Server-Sent Events upstream that timestamps every event.

    sse_upstream.py PORT

GET /events?n=200&interval_ms=10 answers text/event-stream (chunked, keep-alive)
with n events, interval_ms apart, each `data: SEQ SEND_TIME_NS` where the time
is time.time_ns() taken just before the write. Any other path answers 200 "ok".
Sends X-Accel-Buffering: no so nginx passes each event at once.
"""
import asyncio
import socket
import sys
import time
from urllib.parse import parse_qs, urlsplit


async def handle(reader, writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b"\r\n", 1)[0].split()[1].decode()
            url = urlsplit(target)
            if url.path.endswith("/events"):
                q = parse_qs(url.query)
                n = int(q.get("n", ["200"])[0])
                interval = int(q.get("interval_ms", ["10"])[0]) / 1000
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             b"Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
                await writer.drain()
                for seq in range(n):
                    await asyncio.sleep(interval)
                    event = f"data: {seq} {time.time_ns()}\n\n".encode()
                    writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
