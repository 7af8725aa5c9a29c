import NIOCore
import NIOHTTP1

/// Serialises requests to an upstream: NIO's `HTTPRequestEncoder` without its framing
/// corrections (the gateway sets `Content-Length`/`Transfer-Encoding` itself when it builds the
/// head) and with a head written in one copy per string instead of a capacity check per piece.
///
/// Its connection handler writes to it directly (`writeHead(_:chunked:)`, `write(_:)`); the
/// connection also tells the response decoder when a request is a `HEAD`.
final class UpstreamRequestEncoder: DirectHTTPEncoder, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    var encoderContext: ChannelHandlerContext?
    private var isChunked = false

    /// Writes a head whose framing the caller knows: `chunked` when its fields say
    /// `Transfer-Encoding: chunked` (looking for it costs a pass over the fields).
    func writeHead(_ head: HTTPRequestHead, chunked: Bool) {
        guard let context = encoderContext else { return }
        isChunked = chunked
        writeHead(head, context: context, promise: nil)
    }

    /// Writes a head from the client's bytes (see ``UpstreamRequestHead/passesThrough``).
    func writeHead(passingThrough request: UpstreamRequestHead, raw: RawHead) {
        guard let context = encoderContext else { return }
        isChunked = request.framing == .chunked
        var buffer = context.channel.allocator.buffer(capacity: 0)
        buffer.writeRequestHead(passingThrough: request, raw: raw)
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
    }

    private func writeHead(_ head: HTTPRequestHead, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        var buffer = context.channel.allocator.buffer(capacity: 0)
        buffer.writeRequestHead(head)
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }

    func encode(_ part: HTTPClientRequestPart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(let head):
            isChunked = WireFormat.framingFields(of: head.headers).hasTransferEncoding
            writeHead(head, context: context, promise: promise)
        case .body(let body):
            WireFormat.writeBody(body, chunked: isChunked, context: context, promise: promise)
        case .end(let trailers):
            WireFormat.writeEnd(trailers: trailers, chunked: isChunked, context: context, promise: promise)
            isChunked = false
        }
    }
}
