import NIOCore
import NIOWebSocket

/// The WebSocket side of a ``WebSocketEchoUpstream`` connection, added once the `101` went out.
///
/// - Data frames are echoed **frame by frame as they come** (same FIN bit, same opcode — including `continuation` —
///   same payload), so a fragmented message comes back fragmented the same way; nothing is reassembled.
/// - Ping → pong with the same payload.
/// - A peer's close → a close frame with the same status code (empty if the peer sent none), then the connection
///   closes once it is written. After the server itself sent a close, the peer's close reply closes the connection
///   (or, at the latest, ``closeReplyTimeout`` after sending).
/// - Commands, recognised only in unfragmented text frames:
///   - `close:<code>` (e.g. `close:4000`) → the server sends a close frame with that code and reason `bye`.
///   - `ping-me` → the server sends a ping with payload `srv` and, once the matching pong arrives, the text
///     `pong-received`; if none arrives within ``pongTimeout`` it sends `pong-missing` instead.
final class WebSocketEchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    static let pongTimeout = TimeAmount.seconds(5)
    static let closeReplyTimeout = TimeAmount.seconds(5)
    static let pingPayload = "srv"

    private var closeSent = false
    private var pongTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            // No data frames may follow our own close frame.
            guard !self.closeSent else { return }
            let payload = frame.unmaskedData
            if frame.fin, frame.opcode == .text, self.command(String(buffer: payload), context: context) {
                return
            }
            self.send(WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: payload), context: context)

        case .ping:
            guard !self.closeSent else { return }
            self.send(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData), context: context)

        case .pong:
            guard self.pongTimer != nil, String(buffer: frame.unmaskedData) == Self.pingPayload else { return }
            self.pongTimer?.cancel()
            self.pongTimer = nil
            if !self.closeSent {
                self.send(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "pong-received")), context: context)
            }

        case .connectionClose:
            if self.closeSent {
                // The peer's reply to our close: the closing handshake is complete.
                context.close(promise: nil)
                return
            }
            self.closeSent = true
            var payload = frame.unmaskedData
            let code = payload.readSlice(length: 2) ?? ByteBuffer()
            context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)))
                .assumeIsolated()
                .whenComplete { _ in context.close(promise: nil) }

        default:
            // Reserved opcodes; NIO's decoder and protocol error handler deal with malformed frames.
            break
        }
    }

    /// Runs `text` as a command; false means it is ordinary text to echo.
    private func command(_ text: String, context: ChannelHandlerContext) -> Bool {
        if text == "ping-me" {
            self.pongTimer?.cancel()
            self.pongTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.pongTimeout) {
                self.pongTimer = nil
                guard !self.closeSent else { return }
                self.send(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "pong-missing")), context: context)
            }
            self.send(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: Self.pingPayload)), context: context)
            return true
        }
        if text.hasPrefix("close:"), let code = UInt16(text.dropFirst("close:".count)) {
            self.closeSent = true
            var payload = context.channel.allocator.buffer(capacity: 5)
            payload.writeInteger(code)
            payload.writeString("bye")
            self.send(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload), context: context)
            self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeReplyTimeout) {
                context.close(promise: nil)
            }
            return true
        }
        return false
    }

    private func send(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pongTimer?.cancel()
        self.pongTimer = nil
        self.closeTimer?.cancel()
        self.closeTimer = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
