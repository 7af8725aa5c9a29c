import NIOCore
import NIOHTTP1

/// Serialises requests to an upstream: NIO's `HTTPRequestEncoder` without its framing
/// corrections (the gateway sets `Content-Length`/`Transfer-Encoding` itself when it builds the
/// head) and with a head written in one copy per string instead of a capacity check per piece.
///
/// Its connection handler writes to it directly (`writeHead(chunked:_:)`, `write(_:)`); the
/// connection also tells the response decoder when a request is a `HEAD`.
final class UpstreamRequestEncoder: DirectHTTPEncoder, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    var encoderContext: ChannelHandlerContext?
    private var isChunked = false

    /// Writes a head that `serialise` puts into a buffer; `chunked`: it says
    /// `Transfer-Encoding: chunked` (the caller knows; looking costs a pass over the fields).
    func writeHead(chunked: Bool, _ serialise: (inout ByteBuffer) -> Void) {
        guard let context = encoderContext else { return }
        writeHead(chunked: chunked, context: context, promise: nil, serialise)
    }

    private func writeHead(
        chunked: Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, _ serialise: (inout ByteBuffer) -> Void
    ) {
        isChunked = chunked
        var buffer = context.channel.allocator.buffer(capacity: 0)
        serialise(&buffer)
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }

    func encode(_ part: HTTPClientRequestPart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(let head):
            let chunked = WireFormat.framingFields(of: head.headers).hasTransferEncoding
            writeHead(chunked: chunked, context: context, promise: promise) { $0.writeRequestHead(head) }
        case .body(let body):
            WireFormat.writeBody(body, chunked: isChunked, context: context, promise: promise)
        case .end(let trailers):
            WireFormat.writeEnd(trailers: trailers, chunked: isChunked, context: context, promise: promise)
            isChunked = false
        }
    }
}
