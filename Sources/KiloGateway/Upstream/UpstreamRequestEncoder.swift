import NIOCore
import NIOHTTP1

/// Serialises requests to an upstream: NIO's `HTTPRequestEncoder` without its framing
/// corrections (the gateway sets `Content-Length`/`Transfer-Encoding` itself when it builds the
/// head) and with a head written in one copy per string instead of a capacity check per piece.
///
/// It sits where `HTTPRequestEncoder` would, below the response decoder, which sees each request
/// head go by (it needs the method to frame a response to `HEAD`).
final class UpstreamRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    private var isChunked = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        encode(unwrapOutboundIn(data), context: context, promise: promise)
    }

    /// Body parts and ends, written by the connection handler without a pipeline write: the
    /// response decoder in between only needs to see heads.
    func write(_ part: HTTPClientRequestPart) {
        guard let context else { return }
        encode(part, context: context, promise: nil)
    }

    private func encode(_ part: HTTPClientRequestPart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(let head):
            isChunked = WireFormat.framingFields(of: head.headers).hasTransferEncoding
            var buffer = context.channel.allocator.buffer(capacity: 0)
            buffer.writeRequestHead(head)
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
        case .body(let body):
            WireFormat.writeBody(body, chunked: isChunked, context: context, promise: promise)
        case .end(let trailers):
            WireFormat.writeEnd(trailers: trailers, chunked: isChunked, context: context, promise: promise)
            isChunked = false
        }
    }
}
