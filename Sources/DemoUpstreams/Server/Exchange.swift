import NIOCore
import NIOHTTP1

/// The answering side of one request, handed to the route that answers it.
///
/// It frames responses correctly for keep-alive, `HEAD` and HTTP/1.0, so routes only decide what to send,
/// and tells the connection when the response is over. Bound to the connection's event loop.
final class Exchange {
    /// How a response left the connection, for ``UpstreamHandler`` to act on.
    enum Ending {
        /// The response ended normally; keep the connection when `keepAlive`.
        case complete(keepAlive: Bool)
        /// Close without completing the response (the route misbehaves on purpose).
        case close
        /// Close abortively with a TCP RST.
        case reset
        /// The response was sent before the body was read: stop writing but keep draining the body for a while,
        /// as nginx's lingering close does, so the client can read the answer instead of getting a reset.
        case lingeringClose
    }

    let head: HTTPRequestHead
    let target: RequestTarget
    /// `host:port` of this upstream, for absolute URLs back to it.
    let authority: String
    /// Whether the connection stays open after this response; routes that must close clear it before the head.
    var keepAlive: Bool
    private(set) var isFinished = false
    private let context: ChannelHandlerContext
    private let onFinish: (Exchange, Ending) -> Void

    init(
        head: HTTPRequestHead,
        target: RequestTarget,
        authority: String,
        keepAlive: Bool,
        context: ChannelHandlerContext,
        onFinish: @escaping (Exchange, Ending) -> Void
    ) {
        self.head = head
        self.target = target
        self.authority = authority
        self.keepAlive = keepAlive
        self.context = context
        self.onFinish = onFinish
    }

    /// False once the response is over or the peer went away; producers check it before doing more work.
    var isActive: Bool { !self.isFinished && self.context.channel.isActive }
    var isWritable: Bool { self.context.channel.isWritable }
    var allocator: ByteBufferAllocator { self.context.channel.allocator }
    var eventLoop: NIOIsolatedEventLoop { self.context.eventLoop.assumeIsolated() }
    /// False for `HEAD`, whose response carries the headers of a `GET` but no body.
    var sendsBody: Bool { self.head.method != .HEAD }
    private var isHead: Bool { !self.sendsBody }

    func makePromise() -> EventLoopPromise<Void> {
        self.context.eventLoop.makePromise(of: Void.self)
    }

    /// `body` as a JSON document with a trailing newline, so curl output stays readable.
    func jsonBody(_ body: JSONValue) -> ByteBuffer {
        self.allocator.buffer(string: body.serialized() + "\n")
    }

    private var responseVersion: HTTPVersion {
        // An HTTP/1.0 client cannot parse chunked framing, so it gets a 1.0 response delimited by close.
        self.head.version.minor == 0 && self.head.version.major == 1 ? .http1_0 : .http1_1
    }

    /// Sends a 1xx head; the final response must follow.
    func writeInformational(_ status: HTTPResponseStatus, headers: HTTPHeaders = [:]) {
        guard self.isActive else { return }
        let informational = HTTPResponseHead(version: self.responseVersion, status: status, headers: headers)
        self.context.writeAndFlush(UpstreamHandler.wrapOutboundOut(.head(informational)), promise: nil)
    }

    /// Sends the final response head, adding the `Connection` field the connection's fate calls for.
    func writeHead(_ status: HTTPResponseStatus, headers: HTTPHeaders, promise: EventLoopPromise<Void>? = nil) {
        guard self.isActive else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var headers = headers
        let closeDelimited =
            self.responseVersion == .http1_0 && status.mayHaveResponseBody && !self.isHead
            && !headers.contains(name: "content-length")
        if closeDelimited {
            self.keepAlive = false
        }
        if !self.keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if self.responseVersion == .http1_0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let response = HTTPResponseHead(version: self.responseVersion, status: status, headers: headers)
        self.context.write(UpstreamHandler.wrapOutboundOut(.head(response)), promise: promise)
    }

    /// Writes body bytes without flushing; dropped for `HEAD`, whose response has no body.
    func writeBody(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>? = nil) {
        guard self.isActive, !self.isHead else {
            if self.isActive { promise?.succeed() } else { promise?.fail(ChannelError.ioOnClosedChannel) }
            return
        }
        self.context.write(UpstreamHandler.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: promise)
    }

    func flush() {
        guard self.isActive else { return }
        self.context.flush()
    }

    /// A one-shot response with `Content-Length`.
    func respond(_ status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer) {
        var headers = headers
        if status.mayHaveResponseBody {
            headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        }
        self.writeHead(status, headers: headers)
        if status.mayHaveResponseBody && body.readableBytes > 0 {
            self.writeBody(body)
        }
        self.end()
    }

    /// A one-shot JSON response.
    func respond(_ status: HTTPResponseStatus, headers: HTTPHeaders = [:], json: JSONValue) {
        var headers = headers
        headers.replaceOrAdd(name: "content-type", value: "application/json")
        self.respond(status, headers: headers, body: self.jsonBody(json))
    }

    /// Completes the response.
    func end() {
        self.finish(.complete(keepAlive: self.keepAlive))
    }

    /// Closes the connection without completing anything further.
    func close() {
        self.finish(.close)
    }

    /// Resets the connection (SO_LINGER 0, then close).
    func reset() {
        self.finish(.reset)
    }

    /// Ends the response and half-closes, draining the unread request body until the client closes.
    func endWithLingeringClose() {
        self.finish(.lingeringClose)
    }

    private func finish(_ ending: Ending) {
        guard !self.isFinished else { return }
        self.isFinished = true
        self.onFinish(self, ending)
    }
}
