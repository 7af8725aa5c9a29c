import GatewayConfiguration
import NIOCore
import NIOHTTP1

/// The last handler of a client connection: orders requests (pipelining included), answers
/// built-in endpoints and errors, and hands proxied requests to a ``ProxyExchange``.
///
/// NIO's pipelining helper is not used: it stops reading while a response is pending, which
/// costs two `epoll_ctl` calls per request (DESIGN §10). Instead parts of a pipelined request
/// wait in `queued`, and reading pauses only while something is queued or the upstream is full.
final class ClientConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler, HTTP1MessageSink {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let loop: LoopContext
    private let scheme: String
    private var context: ChannelHandlerContext?
    private var clientAddress: String?

    private var exchange: ProxyExchange?
    /// The current request's end has not arrived yet.
    private var requestOpen = false
    /// The current request's response has not been completed yet.
    private var responseOpen = false
    /// A final response head went out for the current request.
    private var responseHeadWritten = false
    /// A reply to send once the (bodyless) request has ended.
    private var deferredReply: (() -> Void)?
    /// Parts of pipelined requests, with what the decoder read from a head (its fields may be
    /// only in `RequestHeadFacts.raw`, so they cannot be read again from the head).
    private var queued = CircularBuffer<(part: HTTPServerRequestPart, facts: RequestHeadFacts?)>()
    private var readPausedByExchange = false
    /// Reads wait: the exchange paused them, or pipelined requests are queued.
    private var readsHeld: Bool { readPausedByExchange || !queued.isEmpty }
    private var pendingRead = false
    /// The channel's writability, as its change events tell it (read once when added).
    private var channelWritable = true
    private var closeAfterResponse = false
    private var inputClosed = false
    private var isClosing = false
    /// Keep-alive timer: scheduled once and re-armed lazily, so a busy connection pays nothing per request.
    /// The timers hold the handler strongly and `channelInactive` cancels them: a `weak` capture
    /// would give the handler a side table, and every retain and release of it (about twenty per
    /// request, most in NIO's pipeline) would take the runtime's slow path.
    private var idleTimer: Scheduled<Void>?
    /// Since when the connection has been waiting for a request; `nil` while one is in progress.
    private var idleSince: NIODeadline?
    /// Runs from the first byte of a request head (or the accept) until the head is complete.
    private var headerTimer: Scheduled<Void>?

    // Facts about the current request, for local replies and logs.
    private var currentHead: HTTPRequestHead?
    private var requestKeepAlive = false
    private var currentRequestID: RequestID = ""
    private var currentStart = NIODeadline.uptimeNanoseconds(0)

    /// This handler serves one HTTP/2 stream (behind `HTTP2FramePayloadToHTTP1ServerCodec`): the stream
    /// ends with its END_STREAM flags, never by closing the channel after a complete response.
    private let isHTTP2Stream: Bool

    /// - Parameter scheme: `http` or `https`, as the client reached the gateway (for `X-Forwarded-Proto`).
    /// - Parameter isHTTP2Stream: the channel is one HTTP/2 stream, not a connection.
    /// The HTTP/1 encoder below this handler (none on an HTTP/2 stream): told which responses answer `HEAD`.
    private let responseEncoder: ClientResponseEncoder?

    init(loop: LoopContext, scheme: String = "http", isHTTP2Stream: Bool = false, responseEncoder: ClientResponseEncoder? = nil) {
        self.loop = loop
        self.scheme = scheme
        self.isHTTP2Stream = isHTTP2Stream
        self.responseEncoder = responseEncoder
    }

    // MARK: lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        channelWritable = context.channel.isWritable
        if let address = context.channel.remoteAddress { clientAddress = address.ipAddress }
        guard isHTTP2Stream || loop.clients.count < loop.edge.maxConnectionsPerLoop else {
            // Over `limits.maxConnections`: close at once rather than queue work we cannot take.
            isClosing = true
            context.close(promise: nil)
            return
        }
        loop.register(self)
        armHeaderTimer()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosing = true
        idleTimer?.cancel()
        idleTimer = nil
        headerTimer?.cancel()
        headerTimer = nil
        queued.removeAll()
        if let exchange {
            exchange.clientClosed()
        }
        if responseOpen { endResponseBookkeeping() }
        loop.unregister(self)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Closes now if no request is in progress; otherwise after the current response (drain).
    func closeIfIdle() {
        if !requestOpen && !responseOpen {
            closeNow()
        } else {
            closeAfterResponse = true
        }
    }

    func closeNow() {
        guard !isClosing, let context else { return }
        isClosing = true
        context.close(promise: nil)
    }

    // MARK: inbound

    /// Between a read and the end of its burst (`channelReadComplete`), HTTP/1 only: writes
    /// the exchange makes upstream meanwhile are flushed once, at the end of the burst.
    private(set) var inReadBurst = false

    /// HTTP/2 streams: the parts come through the pipeline from NIO's HTTP/2-to-HTTP/1 codec.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inReadBurst = !isHTTP2Stream
        receive(unwrapInboundIn(data), facts: nil)
    }

    /// HTTP/1: the parts come straight from the ``HTTP1Decoder`` before this handler, a head
    /// with its framing and persistence already read.
    func received(_ part: HTTP1Parser.Part) {
        inReadBurst = true
        switch part {
        case .requestHead(let head, let facts): receive(.head(head), facts: facts)
        case .body(let buffer): receive(.body(buffer), facts: nil)
        case .end(let trailers): receive(.end(trailers), facts: nil)
        case .responseHead: closeNow()  // a request decoder never produces one
        }
    }

    private func receive(_ part: HTTPServerRequestPart, facts: RequestHeadFacts?) {
        guard !isClosing else { return }
        if !queued.isEmpty || (responseOpen && !requestOpen) {
            queued.append((part, facts))  // a pipelined request waits for the response before it
            return
        }
        handle(part, facts: facts)
    }

    /// HTTP/2 streams: the end of a burst comes through the pipeline.
    func channelReadComplete(context: ChannelHandlerContext) {
        readComplete()
        context.fireChannelReadComplete()
    }

    /// The end of a burst of reads; HTTP/1: straight from the ``HTTP1Decoder``.
    func readComplete() {
        inReadBurst = false
        if !requestOpen && !responseOpen && headerTimer == nil && !isClosing {
            armHeaderTimer()  // bytes of a new head arrived: it must be complete in time
        }
        exchange?.clientReadComplete()
        if !readsHeld { responseEncoder?.readAhead() }  // as `read(context:)` would pass NIO's read on
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        channelWritable = context.channel.isWritable
        exchange?.clientWritabilityChanged(isWritable: channelWritable)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            // A half-closed client still gets its answers; the connection closes after them.
            inputClosed = true
            if isClosing {
                context.close(promise: nil)  // a lingering close is over: the client finished sending
                return
            }
            if !requestOpen && !responseOpen && queued.isEmpty { closeNow() }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !isClosing else { return }
        if let parserError = error as? HTTPParserError, !responseHeadWritten {
            exchange?.clientClosed()
            exchange = nil
            if !requestOpen && !responseOpen { beginRequestBookkeeping(head: nil) }
            requestOpen = false
            let reply: GatewayError =
                parserError == .headerOverflow
                ? .headersTooLarge("request line and headers", limit: loop.edge.limits.maxHeaderBytes) : .badRequest("malformed HTTP request: \(parserError.explanation)")
            writeLocalReply(error: reply, service: nil, keepAlive: false)
            return
        }
        closeNow()
    }

    func read(context: ChannelHandlerContext) {
        if readsHeld {
            pendingRead = true
        } else {
            responseEncoder.read(orFrom: context)
        }
    }

    // MARK: request handling

    /// - Parameter facts: what the decoder already read from a head.
    private func handle(_ part: HTTPServerRequestPart, facts: RequestHeadFacts? = nil) {
        switch part {
        case .head(let head):
            startRequest(head, facts: facts ?? RequestHeadFacts.of(head))
        case .body(let buffer):
            exchange?.clientSentBody(buffer)
        case .end(let trailers):
            requestOpen = false
            if let exchange {
                exchange.clientSentEnd(trailers)
            } else if let reply = deferredReply {
                deferredReply = nil
                reply()
            } else if !responseOpen {
                requestCycleFinished(keepAlive: !closeAfterResponse)
            }
        }
    }

    /// - Parameter mayHaveRequestID: the head may carry an `X-Request-ID` to keep.
    private func beginRequestBookkeeping(head: HTTPRequestHead?, mayHaveRequestID: Bool = true) {
        idleSince = nil
        headerTimer?.cancel()
        headerTimer = nil
        requestOpen = true
        responseOpen = true
        responseHeadWritten = false
        currentHead = head
        currentStart = loop.clock.now()
        loop.activeRequests += 1
        if mayHaveRequestID, let head, let given = head.headers.first(name: "x-request-id"), RequestIDGenerator.isAcceptable(given) {
            currentRequestID = RequestID(given)
        } else {
            currentRequestID = loop.requestIDs.next()
        }
    }

    private func startRequest(_ head: HTTPRequestHead, facts: RequestHeadFacts) {
        var head = head
        beginRequestBookkeeping(head: head, mayHaveRequestID: facts.mayHaveRequestID)
        requestKeepAlive = facts.keepAlive
        let headerListLimit = loop.edge.limits.http2MaxHeaderListSize
        if isHTTP2Stream && RequestHygiene.http2HeaderListSize(head, scheme: scheme) > headerListLimit {
            // This stream only: the connection and its other streams go on.
            writeLocalReply(error: .headersTooLarge("request header list", limit: headerListLimit), service: nil, keepAlive: false)
            return
        }
        if facts.needsHygiene, let problem = RequestHygiene.check(&head, underscores: loop.edge.underscores) {
            writeLocalReply(error: .badRequest(problem), service: nil, keepAlive: false)
            return
        }
        currentHead = head
        let framing: RequestFraming
        switch facts.framing {
        case .success(let value):
            framing = value
        case .failure(let problem):
            writeLocalReply(error: .badRequest("invalid request framing: \(problem)"), service: nil, keepAlive: false)
            return
        }
        switch loop.routes.route(uri: head.uri) {
        case .builtin(let endpoint):
            guard head.method == .GET || head.method == .HEAD else {
                replyAfterBody(framing) { $0.writeLocalReply(error: .methodNotAllowed, service: nil, keepAlive: true) }
                return
            }
            switch endpoint {
            case .metrics:
                replyAfterBody(framing) { handler in
                    let text = handler.loop.metrics.gateway.render()
                    handler.writeLocalReply(
                        status: .ok, body: ByteBuffer(bytes: text), contentType: "text/plain; version=0.0.4; charset=utf-8",
                        service: nil, keepAlive: true, error: nil)
                }
            case .adminStatus:
                replyAfterBody(framing) { $0.replyAdminStatus() }
            case .health, .liveness, .readiness:
                let (status, body) = BuiltinReply.reply(for: endpoint, draining: loop.draining)
                replyAfterBody(framing) { $0.writeLocalReply(status: status, json: body, service: nil, keepAlive: true) }
            }
        case .service(let route):
            startExchange(head: head, route: route, framing: framing, facts: facts)
        case .unknownService(let name):
            replyAfterBody(framing) { $0.writeLocalReply(error: .unknownService(name), service: name, keepAlive: true) }
        case .notFound:
            replyAfterBody(framing) { $0.writeLocalReply(error: .notFound, service: nil, keepAlive: true) }
        }
    }

    /// Local replies wait for the end of a bodyless request (so keep-alive survives); a request
    /// with a body is answered at once and the connection closes instead of reading the body.
    private func replyAfterBody(_ framing: RequestFraming, _ reply: @escaping (ClientConnectionHandler) -> Void) {
        if framing.hasBody {
            reply(self)
        } else {
            deferredReply = { [unowned self] in reply(self) }
        }
    }

    private func startExchange(head: HTTPRequestHead, route: ServiceRoute, framing: RequestFraming, facts: RequestHeadFacts) {
        let runtime = loop.services[route.serviceIndex]
        let maxBodySize = runtime.config.settings.maxBodySize
        if case .contentLength(let length) = framing, maxBodySize > 0, length > maxBodySize {
            // Refused before any upstream connection; the body is not read.
            writeLocalReply(error: .bodyTooLarge(limit: maxBodySize), service: runtime.config.name, keepAlive: false)
            return
        }
        // The gateway answers `Expect: 100-continue` itself; the upstream head goes without it.
        if facts.mayHaveExpect, head.version == .http1_1, head.headers.contains(name: "expect"),
            head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" })
        {
            context?.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
        let upstreamRequest = UpstreamRequestHead(
            client: head,
            // Hygiene may have dropped fields from the head: then its bytes no longer match it.
            raw: facts.needsHygiene ? nil : facts.raw,
            target: route.upstreamTarget,
            authority: runtime.authorities[0],
            framing: framing,
            facts: .init(
                address: clientAddress, scheme: scheme, requestID: currentRequestID,
                trustForwardedHeaders: loop.edge.trusts(clientAddress),
                upgrade: facts.mayHaveUpgrade
                    ? UpgradeRequest.requestedProtocol(head).flatMap { $0.lowercased() == "websocket" ? $0 : nil } : nil),
            connectionNamesOthers: facts.connectionNamesOthers
        )
        let exchange = ProxyExchange(
            client: self, loop: loop, runtime: runtime, route: route, clientHead: head,
            upstreamRequest: upstreamRequest, requestID: currentRequestID, startTime: currentStart)
        self.exchange = exchange
        exchange.start()
    }

    // MARK: used by the exchange

    /// Mirrors the channel's writability from its change events: asking the channel costs an
    /// atomic load of a separate object (a cache miss, about 75 ns) on every request.
    var isWritable: Bool { context != nil && channelWritable }

    /// Whether the current request's response may keep the connection open.
    var canKeepAlive: Bool {
        // After an upgrade request nothing more is parsed, so such a connection cannot carry
        // another request unless it became a tunnel (`RequestHeadFacts.keepAlive` says so).
        currentHead != nil && requestKeepAlive && !closeAfterResponse && !inputClosed && !loop.draining
    }

    func writeResponse(_ part: HTTPServerResponsePart) {
        guard let context, !isClosing else { return }
        write(part, context: context)
    }

    /// Writes a response part: straight to the HTTP/1 encoder when there is one, else down the
    /// pipeline. A final head marks the response started and tells the encoder whether it answers `HEAD`.
    private func write(_ part: HTTPServerResponsePart, context: ChannelHandlerContext) {
        if case .head(let head) = part, head.status.code >= 200 || head.status.code == 101 { finalHeadGoesOut() }
        if let responseEncoder {
            responseEncoder.write(part)
        } else {
            context.write(wrapOutboundOut(part), promise: nil)
        }
    }

    /// The response is started; the encoder learns whether it answers a `HEAD` (no body bytes).
    private func finalHeadGoesOut() {
        responseHeadWritten = true
        responseEncoder?.answeringHEAD = currentHead?.method.isHEAD ?? false
    }

    /// Whether a response head can be written from an upstream's bytes: only to an HTTP/1
    /// client (an HTTP/2 stream takes NIO's head).
    var takesPassedThroughHeads: Bool { responseEncoder != nil }

    /// Writes a final head from an upstream's bytes (see ``UpstreamResponseHead/passesThrough(_:_:)``).
    func writeResponseHead(passingThrough upstream: UpstreamResponseHead, hasLength: Bool, requestID: RequestID, keepAlive: Bool) {
        guard context != nil, !isClosing, let responseEncoder else { return }
        finalHeadGoesOut()
        responseEncoder.writeHead(
            passingThrough: upstream, hasLength: hasLength, version: currentHead?.version ?? .http1_1, requestID: requestID,
            keepAlive: keepAlive)
    }

    func flush() {
        responseEncoder.flush(orFrom: context)
    }

    func setRequestReadPaused(_ paused: Bool) {
        readPausedByExchange = paused
        if !paused { resumeReadingIfPossible() }
    }

    /// The exchange wrote the whole response.
    func exchangeFinished(keepAlive: Bool) {
        exchange = nil
        requestCycleFinished(keepAlive: keepAlive)
    }

    /// The response was `101 Switching Protocols` (already written): the HTTP handlers leave the
    /// pipeline and the tunnel handler relays bytes from now on.
    func becomeTunnel(_ tunnel: TunnelHandler) throws {
        guard let context, !isClosing else { throw ChannelError.ioOnClosedChannel }
        exchange = nil
        endResponseBookkeeping()
        requestOpen = false
        idleTimer?.cancel()
        idleTimer = nil
        loop.unregister(self)
        let pipeline = context.pipeline.syncOperations
        try pipeline.addHandler(tunnel)
        pipeline.removeHandler(context: context, promise: nil)
        pipeline.removeHandler(try pipeline.handler(type: HTTP1Decoder.self), promise: nil)
        pipeline.removeHandler(try pipeline.handler(type: ClientResponseEncoder.self), promise: nil)
        if let validator = try? pipeline.handler(type: NIOHTTPResponseHeadersValidator.self) {
            pipeline.removeHandler(validator, promise: nil)
        }
        isClosing = true  // this handler is done; the tunnel owns the connection
        tunnel.flush()
        context.channel.read()
    }

    /// The response was cut short: close the connection so the client sees the truncation.
    func abortConnection() {
        exchange = nil
        endResponseBookkeeping()
        closeNow()
    }

    /// Answers with the gateway's JSON error for a request the exchange could not complete.
    func sendError(_ error: GatewayError, service: String?, requestEnded: Bool) {
        exchange = nil
        writeLocalReply(error: error, service: service, keepAlive: requestEnded, logged: true)
    }

    // MARK: replies and the end of a request

    private func writeLocalReply(error: GatewayError, service: String?, keepAlive: Bool, logged: Bool = false) {
        let body = ErrorReply.body(error: error, service: service, requestID: currentRequestID.description, allocator: context?.channel.allocator ?? ByteBufferAllocator())
        writeLocalReply(status: error.status, body: body, service: service, keepAlive: keepAlive, error: logged ? nil : error)
    }

    private func writeLocalReply(status: HTTPResponseStatus, json: String, service: String?, keepAlive: Bool) {
        let body = (context?.channel.allocator ?? ByteBufferAllocator()).buffer(string: json)
        writeLocalReply(status: status, body: body, service: service, keepAlive: keepAlive, error: nil)
    }

    /// `/admin/status`: answered when every probe it needs is done (at once when health checks cover all services).
    private func replyAdminStatus() {
        let future = AdminStatus.collect(states: loop.upstreamStates, eventLoop: loop.eventLoop)
        future.assumeIsolated().whenComplete { [self] result in
            guard !isClosing else { return }
            switch result {
            case .success(let json):
                writeLocalReply(status: .ok, json: json, service: nil, keepAlive: true)
            case .failure(let error):
                writeLocalReply(
                    error: GatewayError(status: .internalServerError, code: "status_failed", message: "\(error)"),
                    service: nil, keepAlive: true)
            }
        }
    }

    private func writeLocalReply(
        status: HTTPResponseStatus, body: ByteBuffer, contentType: String = "application/json", service: String?,
        keepAlive: Bool, error: GatewayError?
    ) {
        guard let context, !isClosing else { return }
        let version = currentHead?.version ?? .http1_1
        let keep = keepAlive && !requestOpen && canKeepAlive
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "x-request-id", value: currentRequestID.description)
        if status == .serviceUnavailable { headers.add(name: "retry-after", value: "1") }
        if !keep {
            headers.add(name: "connection", value: "close")
        } else if version == .http1_0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        write(.head(HTTPResponseHead(version: version, status: status, headers: headers)), context: context)
        if currentHead?.method.isHEAD != true {
            write(.body(.byteBuffer(body)), context: context)
        }
        write(.end(nil), context: context)  // flushed after the log line
        if error != nil {
            let method = currentHead?.method ?? .GET
            let index = service.flatMap { name in loop.routes.services.firstIndex { $0.name == name } }
            loop.metrics.recordRequest(
                service: index, method: method, status: Int(status.code),
                nanoseconds: (loop.clock.now() - currentStart).nanoseconds)
        }
        if let error, let accessLog = loop.accessLog {
            let head = currentHead
            accessLog.write(
                AccessLogEntry(
                    requestID: currentRequestID.description, method: head?.method.rawValue ?? "-",
                    path: head.map { RequestTarget.pathOnly($0.uri) } ?? "-", service: service,
                    status: Int(status.code), attempts: 0, bytesIn: 0, bytesOut: body.readableBytes,
                    durationSeconds: Double((loop.clock.now() - currentStart).nanoseconds) / 1e9,
                    upstream: nil, error: error.code
                ).render())
        }
        requestCycleFinished(keepAlive: keep)
    }

    private func endResponseBookkeeping() {
        guard responseOpen else { return }
        responseOpen = false
        loop.activeRequests -= 1
    }

    /// The response is complete; continue with the next request, or close.
    private func requestCycleFinished(keepAlive: Bool) {
        flush()  // the response's last bytes, written before its log line
        endResponseBookkeeping()
        readPausedByExchange = false
        deferredReply = nil
        guard let context, !isClosing else { return }
        if isHTTP2Stream {
            // Closing a stream channel resets the stream and drops DATA still held by flow control;
            // the stream closes by itself once both sides sent END_STREAM.
            if !requestOpen { armIdleTimer() }
            resumeReadingIfPossible()
            return
        }
        if !keepAlive || requestOpen {
            // Closing: with the request body still arriving, shut our side first and let the
            // client's remaining bytes drain, so it reads the answer instead of a reset.
            closeAfterResponse = true
            isClosing = true
            if requestOpen {
                closeWhenWritten(context, mode: .output)
                context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) { [self] in
                    self.context?.close(promise: nil)
                }
                pendingRead = false
                responseEncoder.read(orFrom: context)
            } else {
                closeWhenWritten(context)
            }
            return
        }
        if closeAfterResponse || (inputClosed && queued.isEmpty) {
            isClosing = true
            closeWhenWritten(context)
            return
        }
        while let (part, facts) = queued.popFirst() {
            handle(part, facts: facts)
            if isClosing { return }
            if responseOpen && !requestOpen { break }  // the next pipelined request waits again
        }
        if !responseOpen && !requestOpen {
            if inputClosed {
                isClosing = true
                return closeWhenWritten(context)
            }
            armIdleTimer()
        }
        resumeReadingIfPossible()
    }

    /// Closes (all, or only the output side) once NIO has written what it holds of the
    /// responses: either close fails the writes still pending, and a slow reader may not have
    /// taken their tail yet. At the latest a keep-alive timeout later (a client that stopped
    /// reading altogether).
    private func closeWhenWritten(_ context: ChannelHandlerContext, mode: CloseMode = .all) {
        guard let written = responseEncoder?.writesDone() else { return context.close(mode: mode, promise: nil) }
        let limit = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(loop.edge.limits.keepAliveTimeout)) { [self] in
            self.context?.close(mode: mode, promise: nil)
        }
        written.assumeIsolated().whenComplete { [self] _ in
            limit.cancel()
            self.context?.close(mode: mode, promise: nil)
        }
    }

    private func resumeReadingIfPossible() {
        guard pendingRead, !readsHeld, let context else { return }
        pendingRead = false
        responseEncoder.read(orFrom: context)
    }

    /// Slow-header (slowloris) defence: a request head must arrive whole within `limits.headerTimeout`.
    private func armHeaderTimer() {
        headerTimer?.cancel()
        let timeout = TimeAmount(loop.edge.limits.headerTimeout)
        headerTimer = context?.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.headerTimer = nil
            guard !self.requestOpen, !self.responseOpen else { return }
            self.closeNow()
        }
    }

    private func armIdleTimer() {
        let now = loop.clock.now()
        idleSince = now
        if idleTimer == nil { scheduleIdleCheck(at: now + TimeAmount(loop.edge.limits.keepAliveTimeout)) }
    }

    private func scheduleIdleCheck(at deadline: NIODeadline) {
        idleTimer = context?.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.idleTimer = nil
            guard !self.isClosing else { return }
            let timeout = TimeAmount(self.loop.edge.limits.keepAliveTimeout)
            guard let since = self.idleSince, !self.requestOpen, !self.responseOpen else {
                self.scheduleIdleCheck(at: .now() + timeout)  // busy now: look again a timeout later
                return
            }
            if NIODeadline.now() - since >= timeout {
                self.closeNow()
            } else {
                self.scheduleIdleCheck(at: since + timeout)
            }
        }
    }
}
