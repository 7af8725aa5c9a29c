import NIOCore
import NIOHTTP1

/// Serialises requests to an upstream: NIO's `HTTPRequestEncoder` without its framing
/// corrections (the gateway sets `Content-Length`/`Transfer-Encoding` itself when it builds the
/// head) and with a head written in one copy per string instead of a capacity check per piece.
///
/// It sits where `HTTPRequestEncoder` would, below the response decoder, which sees each request
/// head go by (it needs the method to frame a response to `HEAD`).
final class UpstreamRequestEncoder: DirectHTTPEncoder, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    var encoderContext: ChannelHandlerContext?
    private var isChunked = false

    // Its connection handler writes body parts and ends directly (`write(_:)`); heads go down the
    // pipeline, through the response decoder, which notes each request's method.
    func encode(_ part: HTTPClientRequestPart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
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
