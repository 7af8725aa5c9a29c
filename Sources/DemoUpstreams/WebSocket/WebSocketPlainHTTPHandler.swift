import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Answers every request of a ``WebSocketEchoUpstream`` connection that was not upgraded: `403 upgrade refused`
/// for `/ws-refuse…`, `400 bad websocket upgrade` for an upgrade with broken WebSocket headers (missing key,
/// version other than 13), `200 not a websocket` for anything else (including `/ws` without upgrade headers).
///
/// Sits behind NIO's server pipeline with pipelining assistance, so requests arrive one at a time. It is removed
/// by name (``name``) when the connection upgrades, before any WebSocket frame could reach it.
final class WebSocketPlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "demo-ws-plain-http"

    private var head: HTTPRequestHead?
    /// NIO's upgrade handler rejected the WebSocket headers of the current request.
    private var badUpgrade = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.respond(to: head, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let status: HTTPResponseStatus
        let body: ByteBuffer
        if WebSocketEchoUpstream.isRefusedPath(request.uri) {
            (status, body) = (.forbidden, ByteBuffer(string: "upgrade refused\n"))
        } else if self.badUpgrade {
            (status, body) = (.badRequest, ByteBuffer(string: "bad websocket upgrade\n"))
        } else {
            (status, body) = (.ok, ByteBuffer(string: "not a websocket\n"))
        }
        self.badUpgrade = false
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        let keepAlive = request.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        if keepAlive {
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO's upgrade handler reports a declined upgrade as an error, then hands the request on to us.
        if let error = error as? NIOWebSocketUpgradeError {
            if error == .invalidUpgradeHeader { self.badUpgrade = true }
            return
        }
        context.close(promise: nil)
    }
}
