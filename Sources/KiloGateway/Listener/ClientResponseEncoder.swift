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
    /// A sized response's head, held back until its first body part so that a small body goes
    /// out in the same buffer: one write and one iovec fewer per small response.
    private var heldHead: ByteBuffer?

    /// Room for a small body after a held head.
    private static let heldHeadCapacity = 2048

    func flush(context: ChannelHandlerContext) {
        writeHeldHead(context: context)
        context.flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        writeHeldHead(context: context)
        encoderContext = nil
    }

    private func writeHeldHead(context: ChannelHandlerContext) {
        guard let head = heldHead else { return }
        heldHead = nil
        context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
    }

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
            writeHeldHead(context: context)
            let hold = hasLength && !suppressBody && promise == nil && head.status.mayHaveResponseBody
            var buffer = context.channel.allocator.buffer(capacity: hold ? Self.heldHeadCapacity : 0)
            buffer.writeResponseHead(head, addingChunked: addChunked)
            if hold {
                heldHead = buffer
            } else {
                context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
            }
        case .body(let body):
            if suppressBody {
                promise?.fail(NIOHTTPResponseEncoderError.responseBodyNotAllowed)
            } else if var head = heldHead, case .byteBuffer(var bytes) = body, bytes.readableBytes <= head.writableBytes {
                heldHead = nil
                head.writeBuffer(&bytes)
                context.write(wrapOutboundOut(.byteBuffer(head)), promise: promise)
            } else {
                writeHeldHead(context: context)
                WireFormat.writeBody(body, chunked: isChunked, context: context, promise: promise)
            }
        case .end(let trailers):
            writeHeldHead(context: context)
            WireFormat.writeEnd(trailers: trailers, chunked: isChunked, context: context, promise: promise)
            isChunked = false
            suppressBody = false
        }
    }
}
