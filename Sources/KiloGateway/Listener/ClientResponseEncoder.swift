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
    /// A head and a small body are gathered there and leave in one write at the flush.
    let outbox: SocketOutbox
    private var isChunked = false
    private var suppressBody = false

    /// - Parameter sendsItself: the encoder is the first handler before a plain TCP socket (see ``SocketOutbox``).
    init(sendsItself: Bool) {
        outbox = SocketOutbox(canSend: sendsItself)
    }

    /// What a head's framing fields become, and how its body is written.
    private struct HeadFraming {
        /// The response cannot have a body: no `Content-Length`, no `Transfer-Encoding`.
        var dropFraming = false
        var dropTransferEncoding = false
        var addChunked = false
    }

    private func beginHead(status: HTTPResponseStatus, version: HTTPVersion, hasLength: Bool) -> HeadFraming {
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
        } else if version.major == 1 && version.minor >= 1 {
            framing.dropTransferEncoding = true
            framing.addChunked = true
            isChunked = !suppressBody
        }
        return framing
    }

    /// Writes a final head passed through from an upstream's bytes (see
    /// ``UpstreamResponseHead/passesThrough(_:_:)``), with the same framing rules as any head.
    func writeHead(passingThrough upstream: UpstreamResponseHead, hasLength: Bool, version: HTTPVersion, requestID: RequestID, keepAlive: Bool) {
        guard let context = encoderContext else { return }
        let framing = beginHead(status: upstream.status, version: version, hasLength: hasLength)
        outbox.write(context: context, promise: nil) { buffer in
            buffer.writeResponseHead(
                passingThrough: upstream, version: version, requestID: requestID, keepAlive: keepAlive,
                dropLength: framing.dropFraming, addingChunked: framing.addChunked)
        }
    }

    func encode(_ part: HTTPServerResponsePart, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(var head):
            let (hasLength, hasTransferEncoding) = WireFormat.framingFields(of: head.headers)
            let framing = beginHead(status: head.status, version: head.version, hasLength: hasLength)
            if framing.dropFraming && (hasLength || hasTransferEncoding) {
                head.headers.remove(name: "content-length")
                head.headers.remove(name: "transfer-encoding")
            } else if framing.dropTransferEncoding && hasTransferEncoding {
                head.headers.remove(name: "transfer-encoding")
            }
            outbox.write(context: context, promise: promise) { $0.writeResponseHead(head, addingChunked: framing.addChunked) }
        case .body(let body):
            if suppressBody {
                promise?.fail(NIOHTTPResponseEncoderError.responseBodyNotAllowed)
            } else {
                WireFormat.writeBody(body, chunked: isChunked, to: outbox, context: context, promise: promise)
            }
        case .end(let trailers):
            WireFormat.writeEnd(trailers: trailers, chunked: isChunked, to: outbox, context: context, promise: promise)
            isChunked = false
            suppressBody = false
        }
    }
}
