import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A deliberately dumb TCP client: sends raw bytes, records every read as it arrived, and parses responses
/// only as far as a test needs, so the server's exact framing is what gets tested.
final class RawHTTPClient: Sendable {
    struct Received: Sendable {
        /// Each read as delivered by the socket, so tests can see whether events arrived separately.
        var chunks: [(at: ContinuousClock.Instant, bytes: [UInt8])] = []
        /// Bytes counted instead of kept, in counting mode.
        var countedBytes = 0
        var closed = false
        var closedAt: ContinuousClock.Instant?
        var error: (any Error)?
        var bytes: [UInt8] { self.chunks.flatMap(\.bytes) }
    }

    struct TimedOut: Error, CustomStringConvertible {
        let what: String
        var description: String { "timed out waiting for \(self.what)" }
    }

    let channel: any Channel
    private let received: NIOLockedValueBox<Received>
    /// Offset into `received.bytes` of the first byte not yet returned by `readResponse`.
    private let consumed = NIOLockedValueBox(0)

    private init(channel: any Channel, received: NIOLockedValueBox<Received>) {
        self.channel = channel
        self.received = received
    }

    /// Connects to `127.0.0.1:port`; with `countOnly` received bytes are counted, not stored.
    static func connect(port: Int, countOnly: Bool = false) async throws -> RawHTTPClient {
        let received = NIOLockedValueBox(Received())
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received, countOnly: countOnly))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawHTTPClient(channel: channel, received: received)
    }

    var snapshot: Received { self.received.withLockedValue { $0 } }

    func send(_ text: String) async throws {
        try await self.send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    func close() async {
        try? await self.channel.close()
    }

    /// Waits until `predicate` holds for what was received so far.
    @discardableResult
    func wait(
        for what: String,
        timeout: Duration = .seconds(5),
        until predicate: @Sendable (Received) -> Bool
    ) async throws -> Received {
        let deadline = ContinuousClock.now + timeout
        while true {
            let snapshot = self.snapshot
            if predicate(snapshot) { return snapshot }
            guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Waits for the server to close the connection.
    func waitForClose(timeout: Duration = .seconds(5)) async throws {
        try await self.wait(for: "close", timeout: timeout) { $0.closed }
    }

    /// Waits for the next complete response after those already read.
    /// - Parameter isHeadRequest: The response answers a HEAD request, so it carries no body whatever it says.
    func readResponse(isHeadRequest: Bool = false, timeout: Duration = .seconds(5)) async throws -> RawResponse {
        let start = self.consumed.withLockedValue { $0 }
        let received = try await self.wait(for: "a response", timeout: timeout) { received in
            let bytes = Array(received.bytes.dropFirst(start))
            return RawResponse.parse(bytes, isHeadRequest: isHeadRequest, connectionClosed: received.closed) != nil
        }
        let bytes = Array(received.bytes.dropFirst(start))
        guard let (response, length) = RawResponse.parse(bytes, isHeadRequest: isHeadRequest, connectionClosed: received.closed)
        else { throw TimedOut(what: "a response") }
        self.consumed.withLockedValue { $0 = start + length }
        return response
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        private let received: NIOLockedValueBox<Received>
        private let countOnly: Bool

        init(received: NIOLockedValueBox<Received>, countOnly: Bool) {
            self.received = received
            self.countOnly = countOnly
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = Self.unwrapInboundIn(data)
            let now = ContinuousClock.now
            if self.countOnly {
                self.received.withLockedValue { $0.countedBytes += buffer.readableBytes }
            } else {
                let bytes = Array(buffer.readableBytesView)
                self.received.withLockedValue { $0.chunks.append((now, bytes)) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            let now = ContinuousClock.now
            self.received.withLockedValue {
                $0.closed = true
                $0.closedAt = now
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.received.withLockedValue { $0.error = error }
            context.close(promise: nil)
        }
    }
}
