import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// One WebSocket message as ``WebSocketTestClient/receive(timeout:)`` returns it.
enum WebSocketMessage: Equatable, Sendable {
    case text(String)
    case binary([UInt8])
    case pong([UInt8])
    /// A ping from the server; the client has already answered it with a pong.
    case ping([UInt8])
    /// A close frame (`code` nil when it carried none), or — with `code` nil — the connection ended.
    case close(code: UInt16?)
}

/// The server answered the upgrade request with something other than `101 Switching Protocols`.
struct WebSocketUpgradeFailed: Error, CustomStringConvertible {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: String

    var statusCode: Int { Int(self.status.code) }
    var description: String {
        "WebSocket upgrade refused: HTTP \(self.status.code) \(self.status.reasonPhrase): \(self.body.prefix(200))"
    }
}

/// The connection failed or ended before a complete upgrade response arrived (or the `101` was invalid, e.g. a wrong
/// `Sec-WebSocket-Accept`).
struct WebSocketUpgradeAborted: Error, CustomStringConvertible {
    var underlying: any Error
    var description: String { "WebSocket upgrade aborted before a valid response: \(self.underlying)" }
}

/// A WebSocket client for tests: a real HTTP/1.1 upgrade over a real socket, masked frames as RFC 6455 wants.
///
/// Frames are reassembled into messages (text/binary + continuations); control frames are delivered as they come,
/// even in the middle of a fragmented message. Pings are answered with pongs at once, on the event loop, whether
/// or not anybody is calling ``receive(timeout:)``. A close frame from the server is delivered as `.close(code:)` and
/// — unless the client already sent one — answered with a close frame carrying the same code; the server then closes
/// the TCP connection, after which ``receive(timeout:)`` returns `.close(code: nil)` forever.
///
/// `receive` is meant for one task at a time; sending is safe from anywhere.
final class WebSocketTestClient: Sendable {
    /// Largest frame accepted from the server.
    static let maxFrameSize = 4 << 20

    struct TimedOut: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "no WebSocket message within \(self.timeout)" }
    }

    let channel: any Channel
    /// The server's `101` response.
    let upgradeResponse: HTTPResponseHead
    private let mailbox: Mailbox
    private let closeSent: NIOLockedValueBox<Bool>

    private init(channel: any Channel, upgradeResponse: HTTPResponseHead, mailbox: Mailbox, closeSent: NIOLockedValueBox<Bool>) {
        self.channel = channel
        self.upgradeResponse = upgradeResponse
        self.mailbox = mailbox
        self.closeSent = closeSent
    }

    private enum UpgradeResult: Sendable {
        case websocket(HTTPResponseHead)
        case notUpgraded(NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>)
    }

    /// Connects to `host:port` and upgrades `GET path` to WebSocket, sending `headers` too (plus `Host` unless given).
    /// Throws ``WebSocketUpgradeFailed`` when the answer is not `101`, ``WebSocketUpgradeAborted`` when there is no
    /// valid answer at all; connect errors (e.g. refused) come through as they are.
    static func connect(
        host: String = "127.0.0.1",
        port: Int,
        path: String,
        headers: [(String, String)] = [],
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WebSocketTestClient {
        let mailbox = Mailbox()
        let closeSent = NIOLockedValueBox(false)
        var requestHeaders = HTTPHeaders(headers)
        if !requestHeaders.contains(name: "Host") {
            requestHeaders.add(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        }
        let requestHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: requestHeaders)
        let connected = NIOLockedValueBox<(any Channel)?>(nil)

        let upgrade: EventLoopFuture<UpgradeResult> = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                connected.withLockedValue { $0 = channel }
                return channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeResult>(
                        maxFrameSize: Self.maxFrameSize,
                        upgradePipelineHandler: { channel, response in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    FrameHandler(mailbox: mailbox, closeSent: closeSent)
                                )
                                return UpgradeResult.websocket(response)
                            }
                        }
                    )
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<UpgradeResult>(
                        upgradeRequestHead: requestHead,
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                // The response head is handed on to this channel once the handler completes.
                                .notUpgraded(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                            }
                        }
                    )
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration)
                    )
                }
            }

        let result: UpgradeResult
        do {
            result = try await upgrade.get()
        } catch {
            try? await connected.withLockedValue { $0 }?.close()
            throw WebSocketUpgradeAborted(underlying: error)
        }
        switch result {
        case .websocket(let response):
            guard let channel = connected.withLockedValue({ $0 }) else { throw ChannelError.ioOnClosedChannel }
            return WebSocketTestClient(channel: channel, upgradeResponse: response, mailbox: mailbox, closeSent: closeSent)
        case .notUpgraded(let http):
            throw try await Self.readRefusal(http)
        }
    }

    private static func readRefusal(
        _ http: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    ) async throws -> WebSocketUpgradeFailed {
        try await http.executeThenClose { inbound, _ in
            var head: HTTPResponseHead?
            var body = ByteBuffer()
            loop: for try await part in inbound {
                switch part {
                case .head(let received): head = received
                case .body(var chunk): body.writeBuffer(&chunk)
                case .end: break loop
                }
            }
            guard let head else { throw ChannelError.eof }
            return WebSocketUpgradeFailed(status: head.status, headers: head.headers, body: String(buffer: body))
        }
    }

    // MARK: Sending

    func send(text: String) async throws {
        try await self.send(opcode: .text, payload: Array(text.utf8))
    }

    func send(binary: [UInt8]) async throws {
        try await self.send(opcode: .binary, payload: binary)
    }

    func ping(_ payload: [UInt8] = []) async throws {
        try await self.send(opcode: .ping, payload: payload)
    }

    /// Starts the closing handshake; the server's close reply arrives through ``receive(timeout:)``.
    func close(code: UInt16, reason: String = "") async throws {
        self.closeSent.withLockedValue { $0 = true }
        var payload = ByteBuffer()
        payload.writeInteger(code)
        payload.writeString(reason)
        try await self.send(opcode: .connectionClose, payload: Array(payload.readableBytesView))
    }

    /// Sends one raw (masked) frame, e.g. `fin: false` and `.continuation` to send a fragmented message.
    func send(opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true) async throws {
        let frame = WebSocketFrame(fin: fin, opcode: opcode, maskKey: .random(), data: ByteBuffer(bytes: payload))
        try await self.channel.writeAndFlush(frame)
    }

    /// Drops the TCP connection without a closing handshake.
    func disconnect() async {
        try? await self.channel.close()
        try? await self.channel.closeFuture.get()
    }

    // MARK: Receiving

    /// The next message; `.close(code: nil)` once the connection has ended. Throws ``TimedOut`` after `timeout`,
    /// or the error that broke the connection (once).
    func receive(timeout: Duration = .seconds(10)) async throws -> WebSocketMessage {
        let mailbox = self.mailbox
        return try await withThrowingTaskGroup(of: WebSocketMessage.self) { group in
            group.addTask { try await mailbox.next() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimedOut(timeout: timeout)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    // MARK: - Internals

    /// Messages waiting for ``receive(timeout:)``, and at most one receiver waiting for a message.
    private final class Mailbox: Sendable {
        private struct State {
            var queue: [Result<WebSocketMessage, any Error>] = []
            var ended = false
            var waiter: (id: Int, continuation: CheckedContinuation<WebSocketMessage, any Error>)?
            var nextWaiterID = 0
        }

        private let state = NIOLockedValueBox(State())

        func deliver(_ item: Result<WebSocketMessage, any Error>) {
            let waiter = self.state.withLockedValue { state -> CheckedContinuation<WebSocketMessage, any Error>? in
                guard !state.ended else { return nil }
                if let waiter = state.waiter {
                    state.waiter = nil
                    return waiter.continuation
                }
                state.queue.append(item)
                return nil
            }
            waiter?.resume(with: item)
        }

        func end() {
            let waiter = self.state.withLockedValue { state -> CheckedContinuation<WebSocketMessage, any Error>? in
                state.ended = true
                defer { state.waiter = nil }
                return state.waiter?.continuation
            }
            waiter?.resume(returning: .close(code: nil))
        }

        func next() async throws -> WebSocketMessage {
            let id = self.state.withLockedValue { state in
                defer { state.nextWaiterID += 1 }
                return state.nextWaiterID
            }
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let ready = self.state.withLockedValue { state -> Result<WebSocketMessage, any Error>? in
                        if !state.queue.isEmpty { return state.queue.removeFirst() }
                        if state.ended { return .success(.close(code: nil)) }
                        if Task.isCancelled { return .failure(CancellationError()) }
                        state.waiter = (id, continuation)
                        return nil
                    }
                    if let ready { continuation.resume(with: ready) }
                }
            } onCancel: {
                let waiter = self.state.withLockedValue { state -> CheckedContinuation<WebSocketMessage, any Error>? in
                    guard let waiter = state.waiter, waiter.id == id else { return nil }
                    state.waiter = nil
                    return waiter.continuation
                }
                waiter?.resume(throwing: CancellationError())
            }
        }
    }

    /// Reassembles messages, answers pings and close frames, and hands everything to the mailbox.
    private final class FrameHandler: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame

        private let mailbox: Mailbox
        private let closeSent: NIOLockedValueBox<Bool>
        /// The opcode and payload so far of a fragmented message.
        private var partial: (opcode: WebSocketOpcode, payload: [UInt8])?

        init(mailbox: Mailbox, closeSent: NIOLockedValueBox<Bool>) {
            self.mailbox = mailbox
            self.closeSent = closeSent
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = Self.unwrapInboundIn(data)
            let payload = Array(frame.unmaskedData.readableBytesView)
            switch frame.opcode {
            case .text, .binary:
                if frame.fin {
                    self.deliver(opcode: frame.opcode, payload: payload)
                } else {
                    self.partial = (frame.opcode, payload)
                }
            case .continuation:
                guard var partial = self.partial else {
                    self.fail(context: context, "continuation frame without a message to continue")
                    return
                }
                partial.payload += payload
                if frame.fin {
                    self.partial = nil
                    self.deliver(opcode: partial.opcode, payload: partial.payload)
                } else {
                    self.partial = partial
                }
            case .ping:
                self.write(opcode: .pong, payload: frame.unmaskedData, context: context)
                self.mailbox.deliver(.success(.ping(payload)))
            case .pong:
                self.mailbox.deliver(.success(.pong(payload)))
            case .connectionClose:
                var data = frame.unmaskedData
                let code = data.readInteger(as: UInt16.self)
                self.mailbox.deliver(.success(.close(code: code)))
                let alreadySent = self.closeSent.withLockedValue { sent in
                    defer { sent = true }
                    return sent
                }
                if !alreadySent {
                    var reply = context.channel.allocator.buffer(capacity: 2)
                    if let code { reply.writeInteger(code) }
                    self.write(opcode: .connectionClose, payload: reply, context: context)
                }
            default:
                self.fail(context: context, "unexpected opcode \(frame.opcode)")
            }
        }

        private func deliver(opcode: WebSocketOpcode, payload: [UInt8]) {
            if opcode == .text {
                self.mailbox.deliver(.success(.text(String(decoding: payload, as: UTF8.self))))
            } else {
                self.mailbox.deliver(.success(.binary(payload)))
            }
        }

        private func write(opcode: WebSocketOpcode, payload: ByteBuffer, context: ChannelHandlerContext) {
            let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: payload)
            context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        }

        private struct ProtocolViolation: Error, CustomStringConvertible {
            var description: String
        }

        private func fail(context: ChannelHandlerContext, _ what: String) {
            self.mailbox.deliver(.failure(ProtocolViolation(description: what)))
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.mailbox.end()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.mailbox.deliver(.failure(error))
            context.close(promise: nil)
        }
    }
}
