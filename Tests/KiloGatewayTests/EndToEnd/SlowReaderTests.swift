import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing

extension EndToEndTests {
    /// The gateway sends small writes itself and hands the rest to NIO when a socket is full
    /// (`SocketOutbox`): a reader that lets the socket fill must still get every byte, in order,
    /// and the next response on the connection after it.
    @Suite struct SlowReaders {
        @Test(arguments: [false, true])
        func aSlowReaderGetsEveryByteInOrder(chunked: Bool) async throws {
            try await withGateway { gateway in
                let size = 8 << 20
                let requests =
                    "GET /api/echo/bytes?size=\(size)&chunked=\(chunked ? 1 : 0) HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /api/echo/bytes?size=1000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                let channel = try await Self.connect(port: gateway.port)
                // Bounded: a gateway that lost or misplaced bytes may leave the connection hanging.
                let timeout = Self.close(channel, after: .seconds(20))
                defer { timeout.cancel() }
                var received = ByteBuffer()
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: requests))
                    // Not reading for a while: the client's and the gateway's socket buffers fill up.
                    try await Task.sleep(for: .milliseconds(300))
                    do {
                        for try await var part in inbound {
                            received.writeBuffer(&part)
                            if received.readableBytes > size + (1 << 20) { break }
                        }
                    } catch let error as ChannelError where error == .ioOnClosedChannel || error == .eof {}
                }
                let first = try #require(Self.response(&received))
                #expect(first.status == "HTTP/1.1 200 OK")
                #expect(first.body.readableBytes == size)
                #expect(Self.firstMisplacedByte(first.body) == nil)
                let second = try #require(Self.response(&received))
                #expect(second.status == "HTTP/1.1 200 OK")
                #expect(second.body.readableBytes == 1000)
                #expect(Self.firstMisplacedByte(second.body) == nil)
                #expect(received.readableBytes == 0)
            }
        }

        /// The connection closes after this response (`Connection: close`) while the client is
        /// not reading: the gateway has the whole response, the kernel holds what fits and NIO the
        /// tail. A close then drops that tail (NIO fails the writes it still holds), so the
        /// gateway closes once the tail is written. Behind TLS the close goes through NIOSSL,
        /// which sends close_notify and closes the socket at most 5 s later (its shutdown
        /// timeout), so there the clients stay paused longer than that. NIO holds a tail only
        /// when the response is a little larger than what the kernel takes (much larger, and
        /// the gateway stops reading the upstream until the client reads again); the sizes, 32
        /// KiB apart, cover that window wherever it lies within them. The clients narrow the
        /// link (small segments and receive buffer), which keeps the gateway's send buffer, and
        /// so the window, small. Closing at once, two to five of the nine lost 3 to 125 KB each
        /// when checked, in either case.
        @Test(arguments: [false, true])
        func clientsPausingNearTheEndGetTheTail(tls: Bool) async throws {
            try await withIssuedTLSGateway(serial: 1201, http2: false) { gateway in
                let context = try TLSTestClient.clientContext(trusting: gateway.pki.caCertificate, alpn: ["http/1.1"])
                let sizes = Array(stride(from: 64 << 10, through: 320 << 10, by: 32 << 10))
                var channels: [NIOAsyncChannel<ByteBuffer, ByteBuffer>] = []
                for _ in sizes {
                    channels.append(try await Self.connect(
                        port: tls ? gateway.tlsPort : try #require(gateway.plainPort), narrow: true,
                        tls: tls ? context : nil, pausing: true))
                }
                try await withThrowingTaskGroup(of: (Int, ByteBuffer).self) { group in
                    for (size, channel) in zip(sizes, channels) {
                        group.addTask { (size, try await Self.fetchClosing(size: size, over: channel)) }
                    }
                    // The gateway logs a response once it has all of it, just before it closes.
                    // (Now and then the largest waits for its client instead, over TLS: then the
                    // wait ends at its timeout, and that client cannot lose a tail.)
                    await eventually(timeout: .seconds(2)) { gateway.logs.access.count >= sizes.count }
                    if tls { try await Task.sleep(for: .seconds(6)) }  // NIOSSL's shutdown timeout is 5 s
                    for channel in channels { try await ReadPause.resume(channel.channel) }
                    for try await (size, received) in group {
                        var received = received
                        let total = received.readableBytes
                        let response = Self.response(&received)
                        #expect(response?.body.readableBytes == size, "\(size) bytes asked, \(total) arrived before the close")
                        if let response {
                            #expect(response.status == "HTTP/1.1 200 OK")
                            #expect(Self.firstMisplacedByte(response.body) == nil)
                        }
                    }
                }
            }
        }

        /// Sends a `Connection: close` request for `size` bytes of `/bytes` and collects
        /// everything that arrives before the close.
        private static func fetchClosing(size: Int, over channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async throws -> ByteBuffer {
            let timeout = close(channel, after: .seconds(30))
            defer { timeout.cancel() }
            var received = ByteBuffer()
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "GET /api/echo/bytes?size=\(size) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
                do {
                    for try await var part in inbound { received.writeBuffer(&part) }
                } catch let error as ChannelError where error == .ioOnClosedChannel || error == .eof {
                } catch NIOSSLError.uncleanShutdown {}  // the socket closed without close_notify: judged by the bytes
            }
            return received
        }

        /// A client that stops reading holds the upstream back: once the client's socket is full
        /// the gateway's channel turns unwritable, the gateway stops reading from the upstream,
        /// and the response is not buffered in the gateway. (Without that, 256 MiB would pile up
        /// in a second on loopback.)
        @Test func aClientThatStopsReadingHoldsTheUpstreamBack() async throws {
            try await withGateway { gateway in
                _ = try await gateway.send(TestRequest(uri: "/api/echo/bytes?size=8388608"), collectBody: false)  // warm up
                let size = 256 << 20
                let channel = try await Self.connect(port: gateway.port)
                let timeout = Self.close(channel, after: .seconds(30))
                defer { timeout.cancel() }
                var growth = 0
                var received = 0
                try await channel.executeThenClose { inbound, outbound in
                    let before = ProcessStats.residentBytes()
                    try await outbound.write(ByteBuffer(string: "GET /api/echo/bytes?size=\(size) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
                    // The client is idle for a second (the scenario itself, not a wait for an event).
                    try await Task.sleep(for: .seconds(1))
                    growth = ProcessStats.residentBytes() - before
                    do {
                        for try await part in inbound { received += part.readableBytes }
                    } catch let error as ChannelError where error == .ioOnClosedChannel || error == .eof {}
                }
                // Half the body: without backpressure it all piles up (253 MiB when this was checked); other
                // tests running alongside stay well below that.
                #expect(growth < size / 2, "resident memory grew by \(growth >> 20) MiB while the client did not read")
                #expect(received > size, "the whole response still arrives once the client reads")
            }
        }

        /// - Parameters:
        ///   - narrow: 536-byte segments and a 4 KiB receive buffer, like a slow link.
        ///   - tls: speak TLS with this context.
        ///   - pausing: stop reading from the socket once 16 KiB arrived, until
        ///     ``ReadPause/resume(_:)`` (below TLS, which would otherwise go on reading to
        ///     complete its records).
        private static func connect(
            port: Int, narrow: Bool = false, tls: NIOSSLContext? = nil, pausing: Bool = false
        ) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
            var bootstrap = ClientBootstrap(group: TestGroups.client)
            if narrow {
                bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: 4096)
                    .channelOption(ChannelOptions.socket(SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_MAXSEG)), value: 536)
            }
            return try await bootstrap
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if pausing { try sync.addHandler(ReadPause(after: 16 << 10)) }
                        if let tls { try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: "localhost")) }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        }

        /// Closes the channel after `delay` unless cancelled first: a test's upper bound.
        private static func close(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, after delay: Duration) -> Task<Void, any Error> {
            Task {
                try await Task.sleep(for: delay)
                try await channel.channel.close()
            }
        }

        /// The index of the first body byte that is not `/bytes`' pattern (byte i is i % 251).
        private static func firstMisplacedByte(_ body: ByteBuffer) -> Int? {
            body.withUnsafeReadableBytes { bytes in
                bytes.indices.first { bytes[$0] != UInt8($0 % 251) }
            }
        }

        /// Reads one response (sized or chunked) off the front of `buffer`.
        private static func response(_ buffer: inout ByteBuffer) -> (status: String, body: ByteBuffer)? {
            guard let headText = buffer.readString(upTo: "\r\n\r\n") else { return nil }
            let lines = headText.split(separator: "\r\n").map(String.init)
            let fields = lines.dropFirst().map { $0.lowercased() }
            var body = ByteBuffer()
            if let length = fields.first(where: { $0.hasPrefix("content-length:") }).flatMap({ Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) }) {
                guard let slice = buffer.readSlice(length: length) else { return nil }
                body = slice
            } else {
                while let sizeLine = buffer.readString(upTo: "\r\n"), let chunk = Int(sizeLine, radix: 16) {
                    if chunk == 0 {
                        _ = buffer.readString(upTo: "\r\n")
                        break
                    }
                    guard var slice = buffer.readSlice(length: chunk), buffer.readString(upTo: "\r\n") == "" else { return nil }
                    body.writeBuffer(&slice)
                }
            }
            return (lines.first ?? "", body)
        }
    }
}

extension ByteBuffer {
    /// The text before `separator`, consuming both; `nil` (consuming nothing) when it is not there.
    fileprivate mutating func readString(upTo separator: String) -> String? {
        let view = readableBytesView
        let pattern = Array(separator.utf8)
        guard let start = view.firstRange(of: pattern) else { return nil }
        let text = readString(length: start.lowerBound - view.startIndex)
        moveReaderIndex(forwardBy: pattern.count)
        return text
    }
}

/// Holds the channel's reads once a number of bytes arrived, until ``resume(_:)``: a client
/// that stops reading, at the socket.
private final class ReadPause: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private let after: Int
    private var received = 0
    private enum Phase { case reading, paused(readRequested: Bool), resumed }
    private var phase = Phase.reading
    private var context: ChannelHandlerContext?

    init(after bytes: Int) {
        self.after = bytes
    }

    /// Lets `channel`'s ``ReadPause`` read again (and read now, if a read waited for it).
    static func resume(_ channel: any Channel) async throws {
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ReadPause.self).resume()
        }.get()
    }

    private func resume() {
        guard case .paused(let readRequested) = phase, let context else {
            phase = .resumed
            return
        }
        phase = .resumed
        if readRequested { context.read() }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        if case .reading = phase, received >= after { phase = .paused(readRequested: false) }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if case .paused = phase {
            phase = .paused(readRequested: true)
        } else {
            context.read()
        }
    }
}
