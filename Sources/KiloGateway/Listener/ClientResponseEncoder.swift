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

    /// What a head's framing fields become, and how its body is written.
    private struct HeadFraming {
        /// The response cannot have a body: no `Content-Length`, no `Transfer-Encoding`.
        var dropFraming = false
        var dropTransferEncoding = false
        var addChunked = false
        /// A sized body follows: the head waits for its first part.
        var holdForBody = false
    }

    private func beginHead(status: HTTPResponseStatus, version: HTTPVersion, hasLength: Bool, context: ChannelHandlerContext) -> HeadFraming {
        writeHeldHead(context: context)
        let code = status.code
        if code >= 200 || code == 101 {
            suppressBody = answeringHEAD
            answeringHEAD = false
        }
        var framing = HeadFraming()
        isChunked = false
        if !status.mayHaveResponseBody {
            framing.dropFraming = true
        } else if hasLength {
            framing.dropTransferEncoding = true
            framing.holdForBody = !suppressBody
        } else if version.major == 1 && version.minor >= 1 {
            framing.dropTransferEncoding = true
            framing.addChunked = true
            isChunked = !suppressBody
        }
        return framing
    }

    private func finishHead(_ buffer: ByteBuffer, hold: Bool, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if hold {
            heldHead = buffer
        } else {
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
        }
    }

    /// Writes a final head passed through from an upstream's bytes (see
    /// ``UpstreamResponseHead/passesThrough(_:_:)``), with the same framing rules as any head.
    func writeHead(passingThrough upstream: UpstreamResponseHead, hasLength: Bool, version: HTTPVersion, requestID: String, keepAlive: Bool) {
        guard let context = encoderContext else { return }
        let framing = beginHead(status: upstream.status, version: version, hasLength: hasLength, context: context)
        var buffer = context.channel.allocator.buffer(capacity: framing.holdForBody ? Self.heldHeadCapacity : 0)
        buffer.writeResponseHead(
            passingThrough: upstream, version: version, requestID: requestID, keepAlive: keepAlive,
            dropLength: framing.dropFraming, addingChunked: framing.addChunked)
        finishHead(buffer, hold: framing.holdForBody, context: context, promise: nil)
    }

    func encode(_ part: HTTPServerResponsePart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(var head):
            let (hasLength, hasTransferEncoding) = WireFormat.framingFields(of: head.headers)
            let framing = beginHead(status: head.status, version: head.version, hasLength: hasLength, context: context)
            if framing.dropFraming && (hasLength || hasTransferEncoding) {
                head.headers.remove(name: "content-length")
                head.headers.remove(name: "transfer-encoding")
            } else if framing.dropTransferEncoding && hasTransferEncoding {
                head.headers.remove(name: "transfer-encoding")
            }
            let hold = framing.holdForBody && promise == nil
            var buffer = context.channel.allocator.buffer(capacity: hold ? Self.heldHeadCapacity : 0)
            buffer.writeResponseHead(head, addingChunked: framing.addChunked)
            finishHead(buffer, hold: hold, context: context, promise: promise)
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
