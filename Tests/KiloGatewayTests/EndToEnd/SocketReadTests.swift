import DemoUpstreams
import GatewayConfiguration
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import KiloGateway

extension EndToEndTests {
    /// NIO keeps a connection's receive buffers, as many as it reads per readable event, at the
    /// largest size they grew to, for as long as the connection lives: what one event reads is
    /// what an idle keep-alive connection keeps. In each test the peer fills the sockets while the
    /// gateway does not read, so every read then finds more than a buffer's worth waiting.
    @Suite struct SocketReadTests {
        /// The listener reads a client in events of at most 64 KiB, so after an upload an idle
        /// client keeps one 64 KiB buffer, not four (NIO reads up to four buffers per event).
        @Test func clientConnectionsReadAtMost64KiBPerEvent() async throws {
            let loop = TestGroups.gateway.next()
            let config = GatewayConfig(listen: ListenAddress(host: "127.0.0.1", port: 0), accessLog: false)
            let contexts = try await LoopContexts.single(on: loop, config: config)
            let tally = ReadTally()
            let accepted = loop.makePromise(of: (any Channel).self)
            let listener = try await ListenerBootstrap.make(group: loop, loops: contexts) { channel, _ in
                // Nothing is read until the test says so; a large receive buffer holds several reads.
                try channel.syncOptions!.setOption(.autoRead, value: false)
                try channel.syncOptions!.setOption(.socketOption(.so_rcvbuf), value: 1 << 20)
                try channel.pipeline.syncOperations.addHandler(ReadProbe(tally: tally))
                accepted.succeed(channel)
            }.bind(host: "127.0.0.1", port: 0).get()
            try await withStopping(listener, stop: { try await $0.close() }) { listener in
                let client = try PlainSocket.connect(port: listener.localAddress!.port!, sendBuffer: 1 << 20)
                defer { client.close() }
                let channel = try await accepted.futureResult.get()
                try await withStopping(channel, stop: { try await $0.close() }) { channel in
                    let sent = try await client.fill()
                    try #require(sent > 256 << 10, "only \(sent) bytes fit in the sockets")
                    try await channel.setOption(.autoRead, value: true).get()
                    let counts = try await tally.waitFor(total: sent)
                    try #require(counts.largestRead == 64 << 10, "the reads never filled a 64 KiB buffer: \(counts)")
                    #expect(counts.largestEvent <= 64 << 10, "\(counts)")
                }
            }
        }

        /// A pooled upstream connection reads up to 256 KiB at once (a quarter of the reads of NIO's
        /// 64 KiB for a download), one read per event, so an idle pooled connection keeps 256 KiB
        /// (four reads of 256 KiB would keep 1 MiB).
        @Test func upstreamConnectionsReadOne256KiBBufferPerEvent() async throws {
            let (server, port) = try PlainSocket.listen(sendBuffer: 1 << 20)
            defer { server.close() }
            let loop = TestGroups.gateway.next()
            let tally = ReadTally()
            let lease = try await loop.submit {
                NIOLoopBound(StalledDownload(upstreamPort: port, loop: loop, tally: tally), eventLoop: loop)
            }.get()
            try await withStopping(lease, stop: { lease in try await loop.submit { lease.value.stop() }.get() }) { lease in
                let upstream = try await server.accept()
                defer { upstream.close() }
                _ = try await upstream.receiveHead()
                try upstream.send("HTTP/1.1 200 OK\r\nContent-Length: \(1 << 30)\r\n\r\n")
                // First a flowing stream, so that the kernel grows the connection's receive buffer as
                // it does for a real download; then the stall.
                try await loop.submit { lease.value.connection?.setReadPaused(false) }.get()
                let flowed = try await upstream.fill(limit: 32 << 20)
                _ = try await tally.waitFor(total: flowed)
                try await loop.submit { lease.value.connection?.setReadPaused(true) }.get()
                tally.reset()
                let sent = try await upstream.fill()
                try #require(sent > 1 << 20, "only \(sent) bytes fit in the sockets")

                try await loop.submit { lease.value.connection?.setReadPaused(false) }.get()
                let counts = try await tally.waitFor(total: sent)
                try #require(counts.largestRead == 256 << 10, "the reads never filled a 256 KiB buffer: \(counts)")
                #expect(counts.largestEvent <= 256 << 10, "\(counts)")
            }
        }
    }
}

/// Bytes read, per read and per readable event, counted on a channel's loop and read by the test.
private final class ReadTally: Sendable {
    struct Counts: Sendable, CustomStringConvertible {
        var total = 0
        var largestRead = 0
        var largestEvent = 0
        var currentEvent = 0
        var description: String { "\(total) bytes, largest read \(largestRead), largest event \(largestEvent)" }
    }

    private let counts = NIOLockedValueBox(Counts())

    func read(_ bytes: Int) {
        counts.withLockedValue {
            $0.total += bytes
            $0.largestRead = max($0.largestRead, bytes)
            $0.currentEvent += bytes
        }
    }

    /// Starts counting afresh (between readable events).
    func reset() {
        counts.withLockedValue { $0 = Counts() }
    }

    func eventEnded() {
        counts.withLockedValue {
            $0.largestEvent = max($0.largestEvent, $0.currentEvent)
            $0.currentEvent = 0
        }
    }

    /// The counts once `total` bytes are read, waiting at most 10 s (a loaded debug build reads slowly).
    func waitFor(total: Int) async throws -> Counts {
        let all = await eventually(timeout: .seconds(10)) { counts.withLockedValue { $0.total } == total }
        let now = counts.withLockedValue { $0 }
        try #require(all, "read \(now.total) of \(total) bytes")
        return now
    }
}

/// Counts what a channel reads (a `channelReadComplete` ends each readable event).
private final class ReadProbe: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let tally: ReadTally
    init(tally: ReadTally) { self.tally = tally }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        tally.read(Self.unwrapInboundIn(data).readableBytes)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        tally.eventEnded()
    }
}

/// A pool of one connection to a loopback upstream and an exchange on it that sends a `GET` and
/// holds reading back (as a slow client would make it) until the test resumes it; it counts the
/// response body it then receives (`upstreamReadComplete` ends each readable event).
private final class StalledDownload: PoolLeaseRequester, UpstreamConnectionDelegate {
    let pool: UpstreamPool
    let tally: ReadTally
    var connection: UpstreamConnection?

    init(upstreamPort: Int, loop: any EventLoop, tally: ReadTally) {
        self.tally = tally
        pool = UpstreamPool(
            endpoint: UpstreamEndpoint(host: "127.0.0.1", port: upstreamPort), eventLoop: loop,
            pool: ServiceSettings.Pool(maxConnections: 1), connectTimeout: .seconds(3), shareOfLimit: 1)
        pool.lease(for: self)
    }

    func leaseSucceeded(_ connection: UpstreamConnection) {
        self.connection = connection
        connection.beginRequest(delegate: self)
        connection.setReadPaused(true)
        connection.writeHead(method: .GET, chunked: false) { $0.writeString("GET /large HTTP/1.1\r\nHost: test\r\n\r\n") }
        connection.write(.end(nil))
        connection.flush()
    }

    func leaseFailed(_ failure: PoolLeaseFailure) {}

    func upstreamReceived(_ part: HTTP1Parser.Part) {
        if case .body(let bytes) = part { tally.read(bytes.readableBytes) }
    }

    func upstreamReadComplete() { tally.eventEnded() }
    func upstreamWritabilityChanged(isWritable: Bool) {}
    func upstreamClosed(error: (any Error)?) {}
    func upstreamDeadlinePassed() {}

    /// Closes the connection and the pool.
    func stop() {
        connection?.close()
        connection = nil
        pool.shutdown()
    }
}
