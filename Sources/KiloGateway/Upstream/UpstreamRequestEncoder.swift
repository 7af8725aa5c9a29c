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
    let outbox: SocketOutbox
    private var isChunked = false

    /// - Parameter sendsItself: the encoder is the first handler before a plain TCP socket (see ``SocketOutbox``).
    init(sendsItself: Bool) {
        outbox = SocketOutbox(canSend: sendsItself)
    }

    /// Writes a head that `serialise` puts into a buffer; `chunked`: it says
    /// `Transfer-Encoding: chunked` (the caller knows; looking costs a pass over the fields).
    func writeHead(chunked: Bool, _ serialise: (inout ByteBuffer) -> Void) {
        guard let context = encoderContext else { return }
        isChunked = chunked
        outbox.write(context: context, promise: nil, serialise)
    }

    func encode(_ part: HTTPClientRequestPart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(let head):
            isChunked = WireFormat.framingFields(of: head.headers).hasTransferEncoding
            outbox.write(context: context, promise: promise) { $0.writeRequestHead(head) }
        case .body(let body):
            WireFormat.writeBody(body, chunked: isChunked, to: outbox, context: context, promise: promise)
        case .end(let trailers):
            WireFormat.writeEnd(trailers: trailers, chunked: isChunked, to: outbox, context: context, promise: promise)
            isChunked = false
        }
    }
}
