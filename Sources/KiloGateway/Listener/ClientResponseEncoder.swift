import NIOCore
import NIOHTTP1

/// Serialises responses to an HTTP/1 client: what NIO's `HTTPResponseEncoder` does (the same
/// framing rules), with the head written in one sized copy and the framing decided in one pass
/// over the header names.
///
/// Framing: a response that cannot have a body (1xx, 204, 304) loses `Content-Length` and
/// `Transfer-Encoding`; a sized one loses `Transfer-Encoding`; an unsized one is chunked for
/// HTTP/1.1 clients and delimited by the close for HTTP/1.0 ones. A response to `HEAD` keeps its
/// framing headers but never carries body bytes or a last chunk.
final class ClientResponseEncoder: DirectHTTPEncoder, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = IOData

    /// Set by the connection handler before it writes a final response head: the request it
    /// answers was a `HEAD` (NIO's encoder learns this from its paired decoder).
    var answeringHEAD = false
    var encoderContext: ChannelHandlerContext?
    private var isChunked = false
    private var suppressBody = false

    func encode(_ part: HTTPServerResponsePart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(var head):
            let code = head.status.code
            if code >= 200 || code == 101 {
                suppressBody = answeringHEAD
                answeringHEAD = false
            }
            let (hasLength, hasTransferEncoding) = WireFormat.framingFields(of: head.headers)
            var addChunked = false
            if !head.status.mayHaveResponseBody {
                if hasLength || hasTransferEncoding {
                    head.headers.remove(name: "content-length")
                    head.headers.remove(name: "transfer-encoding")
                }
                isChunked = false
            } else if hasLength {
                if hasTransferEncoding { head.headers.remove(name: "transfer-encoding") }
                isChunked = false
            } else if head.version.major == 1 && head.version.minor >= 1 {
                if hasTransferEncoding { head.headers.remove(name: "transfer-encoding") }
                addChunked = true
                isChunked = !suppressBody
            } else {
                isChunked = false
            }
            var buffer = context.channel.allocator.buffer(capacity: 0)
            buffer.writeResponseHead(head, addingChunked: addChunked)
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
        case .body(let body):
            if suppressBody {
                promise?.fail(NIOHTTPResponseEncoderError.responseBodyNotAllowed)
            } else {
                WireFormat.writeBody(body, chunked: isChunked, context: context, promise: promise)
            }
        case .end(let trailers):
            WireFormat.writeEnd(trailers: trailers, chunked: isChunked, context: context, promise: promise)
            isChunked = false
            suppressBody = false
        }
    }
}
