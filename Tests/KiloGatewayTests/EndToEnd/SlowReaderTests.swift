import Foundation
import NIOCore
import NIOPosix
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

        private static func connect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
            try await ClientBootstrap(group: TestGroups.client)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
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
