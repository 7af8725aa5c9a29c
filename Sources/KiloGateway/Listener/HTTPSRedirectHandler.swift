import NIOCore
import NIOHTTP1

/// The plain listener with `plainHTTP: redirect`: every request is answered `308` to the same
/// URI on the TLS listener, except the probes (`/healthz`, `/readyz`), which kubelet asks over
/// plain HTTP and which stay served here.
///
/// Answers are written synchronously per request, so pipelined requests are answered in order.
final class HTTPSRedirectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let loop: LoopContext
    private let httpsPort: Int
    private var head: HTTPRequestHead?
    private var idleTimer: Scheduled<Void>?
    private var closed = false

    init(loop: LoopContext, httpsPort: Int) {
        self.loop = loop
        self.httpsPort = httpsPort
    }

    /// The plain listener's pipeline in redirect mode: HTTP/1 codec (same header limits) and this handler.
    static func configure(_ channel: any Channel, loop: LoopContext, httpsPort: Int) throws {
        let sync = channel.pipeline.syncOperations
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = loop.edge.limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldSize = loop.edge.limits.maxHeaderBytes
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: true,
            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
        try sync.addHandler(HTTPSRedirectHandler(loop: loop, httpsPort: httpsPort))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        armIdleTimer(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        idleTimer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            idleTimer?.cancel()
            self.head = head
        case .body:
            break  // the body of a redirected request is read and dropped
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !closed else { return }
        if error is HTTPParserError {
            write(status: .badRequest, headers: [:], body: #"{"error":"malformed HTTP request","code":"bad_request"}"#,
                  head: nil, keepAlive: false, context: context)
        } else {
            closed = true
            context.close(promise: nil)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = RequestTarget.pathOnly(head.uri)
        let keepAlive = head.isKeepAlive && !loop.draining
        if path == "/healthz" || path == "/readyz" {
            guard head.method == .GET || head.method == .HEAD else {
                write(status: .methodNotAllowed, headers: [:], body: #"{"error":"method not allowed","code":"method_not_allowed"}"#,
                      head: head, keepAlive: keepAlive, context: context)
                return
            }
            let (status, body) = BuiltinReply.reply(for: path == "/healthz" ? .liveness : .readiness, draining: loop.draining)
            write(status: status, headers: [:], body: body, head: head, keepAlive: keepAlive, context: context)
            return
        }
        guard let location = Self.location(host: head.headers.first(name: "host"), uri: head.uri, httpsPort: httpsPort) else {
            write(status: .badRequest, headers: [:], body: #"{"error":"missing or invalid Host header","code":"bad_request"}"#,
                  head: head, keepAlive: false, context: context)
            return
        }
        write(status: .permanentRedirect, headers: ["location": location], body: "", head: head, keepAlive: keepAlive, context: context)
    }

    /// `https://{host without port}[:port]{uri}`; `nil` when the Host header is missing or not a plain host name.
    static func location(host: String?, uri: String, httpsPort: Int) -> String? {
        guard let host, let name = hostName(host) else { return nil }
        var target = uri
        if !target.hasPrefix("/") {
            // absolute-form (`http://host/path`): keep the path and query only
            if let schemeEnd = target.range(of: "://") {
                let rest = target[schemeEnd.upperBound...]
                target = rest.firstIndex(where: { $0 == "/" || $0 == "?" }).map { String(rest[$0...]) } ?? "/"
                if target.hasPrefix("?") { target = "/" + target }
            } else {
                target = "/"
            }
        }
        let port = httpsPort == 443 ? "" : ":\(httpsPort)"
        return "https://\(name)\(port)\(target)"
    }

    /// The host part of a Host header value (`name`, `name:port`, `[v6]`, `[v6]:port`), checked to hold
    /// only characters a host name or IP literal may have.
    static func hostName(_ value: String) -> String? {
        var host = Substring(value)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            host = host[...close]
            let inner = host.dropFirst().dropLast()
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            return String(host)
        }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        guard !host.isEmpty,
            host.utf8.allSatisfy({ byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_")
            })
        else { return nil }
        return String(host)
    }

    private func write(
        status: HTTPResponseStatus, headers extra: [String: String], body: String, head: HTTPRequestHead?, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        if !body.isEmpty { headers.add(name: "content-type", value: "application/json") }
        headers.add(name: "content-length", value: String(body.utf8.count))
        for (name, value) in extra { headers.add(name: name, value: value) }
        let version = head?.version ?? .http1_1
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if version == .http1_0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if head?.method != .HEAD, !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if keepAlive {
            armIdleTimer(context: context)
        } else {
            closed = true
            context.close(promise: nil)
        }
    }

    private func armIdleTimer(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(loop.edge.limits.keepAliveTimeout)) { [weak self] in
            guard let self, !self.closed, self.head == nil else { return }
            self.closed = true
            context.close(promise: nil)
        }
    }
}
