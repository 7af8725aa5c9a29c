import GatewayConfiguration
import Logging
import NIOCore
import NIOHTTP1

/// One proxied request: leases an upstream connection on the client's event loop, streams the
/// request body up and the response back with backpressure both ways, and applies the retry
/// policy when an attempt fails (DESIGN §4–§6).
///
/// Lives on one event loop; every entry point is called from there.
final class ProxyExchange: PoolLeaseRequester, UpstreamConnectionDelegate {
    private var client: ClientConnectionHandler?
    private let loop: LoopContext
    private let runtime: ServiceRuntime
    private let route: ServiceRoute
    private let clientHead: HTTPRequestHead
    let requestID: RequestID
    private let startTime: NIODeadline
    private let policy: RetryPolicy
    /// This service's metric handles on this loop, kept for the whole request (a reload may renumber services).
    private let serviceMetrics: ServiceMetrics

    // Where the request goes: chosen per attempt by the balancer, or set by a followed redirect.
    /// Where a followed redirect leads; `nil` while the attempts go to the service's endpoints.
    private var redirectEndpoint: UpstreamEndpoint?
    /// The service endpoint of the latest attempt (its URL rewrites `Location`).
    private var urlIndex = 0
    /// The service endpoint the upstream head's `Host` and target were made for.
    private var headMadeFor = 0
    /// Index of the service endpoint of this attempt; `nil` while following a redirect elsewhere.
    private var endpointIndex: Int?
    /// The endpoint counted in the balancer's in-flight numbers, to uncount exactly once.
    private var countedEndpoint: Int?
    /// What the upstream head is made of; written from the client's bytes when it can be.
    private let upstreamRequest: UpstreamRequestHead
    /// The head once a followed redirect rewrote it.
    private var followedHead: HTTPRequestHead?
    private var redirectsFollowed = 0
    /// The body is not sent again (a 303 turned the request into a GET).
    private var bodyDropped = false

    // The request body as it arrives from the client.
    /// Body parts waiting for a connection (an empty array costs no allocation, unlike a `CircularBuffer`).
    private var unsent: [ByteBuffer] = []
    private var unsentBytes = 0
    /// Every body part received, while their total stays within `retries.replayBuffer`.
    private var replay: [ByteBuffer]? = []
    private var replayBytes = 0
    private var requestEnded = false
    private var requestTrailers: HTTPHeaders?
    private(set) var bytesIn = 0
    private(set) var bytesOut = 0

    // The current attempt.
    private enum Phase { case leasing, backoff, exchanging, finished }
    private var phase: Phase = .leasing
    private var attempts = 0
    private var pool: UpstreamPool?
    private var connection: UpstreamConnection?
    private var requestHeadWritten = false
    private var requestFullySent = false
    private var responseBytesReceived = false
    private var responseHeadReceived = false
    private var upstreamKeepAlive = false
    private var followingRedirect: RedirectTarget?
    private var clientResponseStarted = false
    private var clientKeepAlive = true
    private var status = 0
    private var lastError: String?
    // Admission bookkeeping, each undone exactly once.
    private var admitted = false
    private var countedPending = false
    private var countedRetry = false

    /// The client asked for a WebSocket and the upstream agreed: relay bytes after the `101`.
    private var switchingProtocols = false

    /// When the request's end was written upstream: `timeouts.response` counts from here.
    private var requestSentAt = NIODeadline.uptimeNanoseconds(0)
    private var backoffTimer: Scheduled<Void>?
    private var lastActivity: NIODeadline

    init(
        client: ClientConnectionHandler,
        loop: LoopContext,
        runtime: ServiceRuntime,
        route: ServiceRoute,
        clientHead: HTTPRequestHead,
        upstreamRequest: UpstreamRequestHead,
        requestID: RequestID,
        startTime: NIODeadline
    ) {
        self.client = client
        self.loop = loop
        self.runtime = runtime
        self.route = route
        self.clientHead = clientHead
        self.upstreamRequest = upstreamRequest
        self.requestID = requestID
        self.startTime = startTime
        self.lastActivity = startTime
        let retries = runtime.settings.retries
        self.policy = RetryPolicy(maxAttempts: retries.attempts, backoff: retries.backoff)
        self.serviceMetrics = loop.metrics.service(runtime.index)
    }

    /// The method the upstream request has (a followed 303 turns it into GET).
    private var upstreamMethod: HTTPMethod { followedHead?.method ?? upstreamRequest.client.method }
    /// Where this attempt goes.
    private var endpoint: UpstreamEndpoint { redirectEndpoint ?? runtime.endpoints[urlIndex] }
    /// The URL of the service endpoint of this attempt (for `Location` rewriting).
    private var endpointURL: UpstreamURL { runtime.config.endpoints[urlIndex] }

    // MARK: driven by the client connection

    /// Admits the request (or answers 503 at once) and starts the first attempt.
    func start() {
        let limits = runtime.settings.limits
        let inFlight = runtime.shared.inFlight.loadThenWrappingIncrement(ordering: .relaxed)
        admitted = true
        serviceMetrics.adjustInFlight(by: 1)
        guard inFlight < limits.maxConcurrentRequests else {
            serviceMetrics.recordAdmissionRejection(.concurrency)
            fail(.tooManyRequests)
            return
        }
        beginAttempt()
    }

    func clientSentBody(_ buffer: ByteBuffer) {
        guard phase != .finished else { return }
        let count = buffer.readableBytes
        bytesIn += count
        lastActivity = loop.clock.now()
        let limit = runtime.settings.maxBodySize
        if limit > 0 && bytesIn > limit {
            // A chunked (or lying) body grew past the limit while streaming: stop here.
            lastError = "request body larger than \(limit) bytes"
            if clientResponseStarted {
                if let connection {
                    self.connection = nil
                    connection.close()
                    pool?.release(connection, reusable: false)
                }
                abortClient()
            } else {
                fail(.bodyTooLarge(limit: limit))
            }
            return
        }
        guard !bodyDropped else { return }
        if replay != nil {
            if replayBytes + count <= runtime.settings.retries.replayBuffer {
                replay!.append(buffer)
                replayBytes += count
            } else {
                replay = nil
            }
        }
        if phase == .exchanging, let connection {
            connection.write(.body(.byteBuffer(buffer)))
        } else {
            unsent.append(buffer)
            unsentBytes += count
            if unsentBytes > runtime.settings.retries.replayBuffer { client?.setRequestReadPaused(true) }
        }
    }

    func clientSentEnd(_ trailers: HTTPHeaders?) {
        requestEnded = true
        requestTrailers = trailers
        guard phase == .exchanging, let connection else { return }
        sendRequestEnd(on: connection)
        flushUpstream(connection)
    }

    func clientReadComplete() {
        if phase == .exchanging { connection?.flush() }
    }

    /// Flushes now, unless the client's read burst is still going: its end flushes once for
    /// everything written meanwhile (`clientReadComplete`), which saves a flush per request.
    private func flushUpstream(_ connection: UpstreamConnection) {
        if client?.inReadBurst != true { connection.flush() }
    }

    func clientWritabilityChanged(isWritable: Bool) {
        connection?.setReadPaused(!isWritable)
    }

    /// The client connection closed: abandon the upstream side, never pool it mid-message.
    func clientClosed() {
        guard phase != .finished else { return }
        lastError = "client closed the connection"
        if phase == .leasing { pool?.cancelLease(for: self) }
        if let connection {
            self.connection = nil
            connection.close()
            pool?.release(connection, reusable: false)
        }
        finish(status: 499)
    }

    // MARK: attempts

    /// - Parameters:
    ///   - fresh: the previous attempt failed on a connection, so this one must not reuse an idle one.
    ///   - avoid: a service endpoint to steer away from (the one the previous attempt failed on).
    private func beginAttempt(fresh: Bool = false, avoid: Int? = nil) {
        attempts += 1
        phase = .leasing
        requestHeadWritten = false
        requestFullySent = false
        responseBytesReceived = false
        responseHeadReceived = false
        if redirectsFollowed == 0 {
            guard let index = runtime.pickEndpoint(avoid: avoid, now: loop.clock.now(), random: loop.random) else {
                serviceMetrics.recordAdmissionRejection(.noHealthyEndpoint)
                fail(.noHealthyEndpoint)
                return
            }
            useEndpoint(index)
        }
        let pool: UpstreamPool
        if redirectsFollowed == 0, let index = endpointIndex {
            pool = runtime.pool(index, in: loop)
        } else {
            pool = loop.pool(for: endpoint, settings: runtime.settings)  // a followed redirect may lead off the service's endpoints
        }
        self.pool = pool
        pool.lease(for: self, fresh: fresh)
        if phase == .leasing && !countedPending {
            // No idle connection was at hand: this request now waits (connecting or queued).
            let pending = runtime.shared.pending.loadThenWrappingIncrement(ordering: .relaxed)
            countedPending = true
            if pending >= runtime.settings.limits.maxPendingRequests {
                serviceMetrics.recordAdmissionRejection(.pending)
                pool.cancelLease(for: self)
                fail(.tooManyPending)
            }
        }
    }

    /// Points this attempt at one of the service's endpoints.
    private func useEndpoint(_ index: Int) {
        uncountEndpoint()
        endpointIndex = index
        urlIndex = index
        runtime.active[index] += 1
        countedEndpoint = index
        if index != headMadeFor {
            // The first head was made for the first endpoint; another one needs its own Host and base path.
            headMadeFor = index
            let url = runtime.config.endpoints[index]
            upstreamRequest.authority = runtime.authorities[index]
            upstreamRequest.target = url.basePath.isEmpty ? route.pathAndQuery : url.basePath + route.pathAndQuery
        }
    }

    private func uncountEndpoint() {
        if let counted = countedEndpoint {
            runtime.active[counted] -= 1
            countedEndpoint = nil
        }
    }

    private func uncountPending() {
        if countedPending {
            runtime.shared.pending.wrappingDecrement(ordering: .relaxed)
            countedPending = false
        }
    }

    /// Counts an attempt's outcome and feeds passive outlier detection with it.
    private func recordOutcome(_ outcome: AttemptOutcome, reason: String? = nil) {
        serviceMetrics.recordAttempt(outcome)
        let failed = outcome != .success && outcome != .staleConnection
        guard let index = endpointIndex else { return }
        if let ejection = runtime.recordOutcome(endpoint: index, failed: failed, reason: reason, now: loop.clock.now()) {
            loop.metrics.gateway.recordEjection(service: runtime.config.name, endpoint: endpointURL.description)
            loop.logger.warning(
                "upstream endpoint ejected",
                metadata: [
                    "service": "\(runtime.config.name)", "endpoint": "\(endpointURL)", "for": "\(ejection)",
                    "reason": "\(reason ?? "failures")",
                ])
        }
    }

    func leaseSucceeded(_ connection: UpstreamConnection) {
        guard phase == .leasing else {
            pool?.release(connection, reusable: true)
            return
        }
        uncountPending()
        phase = .exchanging
        self.connection = connection
        connection.beginRequest(delegate: self)
        if let client, !client.isWritable { connection.setReadPaused(true) }
        lastActivity = loop.clock.now()
        connection.armDeadline(nextAttemptDeadline())
        if let followed = followedHead {
            let chunked = WireFormat.framingFields(of: followed.headers).hasTransferEncoding
            connection.writeHead(method: followed.method, chunked: chunked) { $0.writeRequestHead(followed) }
        } else {
            let request = upstreamRequest
            connection.writeHead(method: request.client.method, chunked: request.framing == .chunked) { request.write(into: &$0) }
        }
        requestHeadWritten = true
        let parts = unsent
        unsent = []
        for part in parts {
            connection.write(.body(.byteBuffer(part)))
        }
        unsentBytes = 0
        if requestEnded { sendRequestEnd(on: connection) }
        flushUpstream(connection)
        client?.setRequestReadPaused(!connection.isWritable)
    }

    func leaseFailed(_ failure: PoolLeaseFailure) {
        guard phase == .leasing else { return }
        uncountPending()
        switch failure {
        case .connect(let error):
            attemptFailed(.connect, detail: UpstreamErrorDescription.describe(error))
        case .exhausted:
            fail(.poolExhausted)
        case .closed:
            fail(.draining)
        }
    }

    private func sendRequestEnd(on connection: UpstreamConnection) {
        guard !requestFullySent else { return }
        connection.write(.end(bodyDropped ? nil : requestTrailers))
        requestFullySent = true
        requestSentAt = loop.clock.now()
        if !responseHeadReceived { connection.armDeadline(nextAttemptDeadline()) }
    }

    private func attemptFailed(_ failure: RetryPolicy.Failure, detail: String) {
        lastError = detail
        cancelAttemptTimers()
        let reused = connection?.isReused ?? false
        // A reused connection closed under us is the keep-alive race, not the endpoint's fault.
        let staleRace = failure == .closedBeforeResponse && reused && !responseBytesReceived
        let outcome: AttemptOutcome
        switch failure {
        case .connect: outcome = .connectError
        case .closedBeforeResponse: outcome = staleRace ? .staleConnection : .closedEarly
        case .responseTimeout: outcome = .timeout
        case .protocolError: outcome = .protocolError
        }
        recordOutcome(outcome, reason: detail)
        let failedEndpoint = endpointIndex
        if let connection {
            self.connection = nil
            connection.close()
            pool?.release(connection, reusable: false)
        }
        let facts = RetryPolicy.Facts(
            method: upstreamMethod,
            reusedConnection: reused,
            requestBytesWritten: requestHeadWritten,
            responseBytesReceived: responseBytesReceived,
            clientBytesWritten: clientResponseStarted,
            bodyReplayable: replay != nil || bodyDropped
        )
        switch policy.decide(failure, facts: facts, attemptsMade: attempts, jitter: loop.nextJitter()) {
        case .retry(let reason, let delay):
            // A stale-connection retry resends a request the upstream never saw, so it cannot amplify
            // an outage: only the other retries spend the budget.
            // Failing over to another endpoint after a refused connect is free too: nothing reached an upstream.
            let failover = reason == .connect && failedEndpoint.map { runtime.hasUsableEndpoint(besides: $0, now: .now()) } == true
            guard reason == .staleConnection || failover || admitRetry() else {
                lastError = "\(detail) (retry budget exhausted)"
                serviceMetrics.recordAdmissionRejection(.retryBudget)
                giveUp(failure, detail: detail)
                return
            }
            serviceMetrics.recordRetry(RetryReason(rawValue: reason.rawValue) ?? .connect)
            loop.logger.debug(
                "retrying upstream request",
                metadata: ["requestId": "\(requestID)", "service": "\(runtime.config.name)", "reason": "\(reason.rawValue)"])
            if requestHeadWritten, !bodyDropped, let replay {
                unsent = replay
                unsentBytes = replayBytes
            }
            let fresh = reason != .connect
            // A stale connection says nothing about the endpoint; other failures steer the retry elsewhere.
            let avoid = reason == .staleConnection ? nil : failedEndpoint
            if delay == .zero {
                beginAttempt(fresh: fresh, avoid: avoid)
            } else {
                phase = .backoff
                backoffTimer = loop.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { [self] in
                    backoffTimer = nil
                    if phase == .backoff { beginAttempt(fresh: fresh, avoid: avoid) }
                }
            }
        case .giveUp:
            giveUp(failure, detail: detail)
        }
    }

    private func giveUp(_ failure: RetryPolicy.Failure, detail: String) {
        if clientResponseStarted {
            abortClient()
            return
        }
        switch failure {
        case .connect: fail(.connectFailed(detail))
        case .responseTimeout: fail(.responseTimeout)
        case .closedBeforeResponse, .protocolError: fail(.upstreamFailed(detail))
        }
    }

    /// The retry budget: retries in flight may add at most `retries.budget` of the requests in
    /// flight (never fewer than `minRetryConcurrency`), so retries cannot multiply an outage.
    private func admitRetry() -> Bool {
        if countedRetry { return true }  // this request already holds a retry slot
        let retries = runtime.settings.retries
        let shared = runtime.shared
        let allowed = max(retries.minRetryConcurrency, Int(Double(shared.inFlight.load(ordering: .relaxed)) * retries.budget))
        let current = shared.retriesInFlight.loadThenWrappingIncrement(ordering: .relaxed)
        guard current < allowed else {
            shared.retriesInFlight.wrappingDecrement(ordering: .relaxed)
            return false
        }
        countedRetry = true
        return true
    }

    // MARK: upstream events

    func upstreamReceived(_ part: HTTP1Parser.Part) {
        guard phase == .exchanging else { return }
        switch part {
        case .requestHead:
            return  // a response decoder never produces one
        case .responseHead(let head, let facts):
            responseBytesReceived = true
            lastActivity = loop.clock.now()
            if head.status.code >= 100 && head.status.code < 200 && head.status.code != 101 {
                relayInformational(head.head)
                return
            }
            responseHeadReceived = true
            connection?.armDeadline(nextAttemptDeadline())  // from here on, silence between chunks counts
            upstreamKeepAlive = facts.keepAlive
            if head.status.code >= 500 {
                recordOutcome(.upstream5xx, reason: "status \(head.status.code)")
            } else {
                recordOutcome(.success)
            }
            if facts.hasTransferEncoding && !facts.transferEncodingIsChunked {
                // After de-chunking, another coding could not be passed on intact.
                let codings = head.headers[canonicalForm: "transfer-encoding"]
                attemptFailed(.protocolError, detail: "upstream used an unsupported transfer coding: \(codings.joined(separator: ", "))")
                return
            }
            if head.status == .switchingProtocols {
                guard upstreamRequest.facts.upgrade != nil else {  // a followed redirect keeps the request's upgrade
                    attemptFailed(.protocolError, detail: "upstream switched protocols unasked")
                    return
                }
                switchingProtocols = true
                startClientResponse(head, facts: facts)
                return
            }
            if let redirect = redirectToFollow(head) {
                lastRedirectStatus = Int(head.status.code)
                followingRedirect = redirect
                return
            }
            startClientResponse(head, facts: facts)
        case .body(let buffer):
            lastActivity = loop.clock.now()
            guard followingRedirect == nil, let client else { return }
            bytesOut += buffer.readableBytes
            client.writeResponse(.body(.byteBuffer(buffer)))
            if !client.isWritable { connection?.setReadPaused(true) }
        case .end(let trailers):
            if switchingProtocols {
                establishTunnel()
            } else if let redirect = followingRedirect {
                follow(redirect)
            } else {
                completeResponse(trailers: trailers)
            }
        }
    }

    func upstreamReadComplete() {
        client?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        client?.setRequestReadPaused(!isWritable)
    }

    func upstreamClosed(error: (any Error)?) {
        guard phase == .exchanging else { return }
        let detail = error.map { UpstreamErrorDescription.describe($0) } ?? "connection closed by upstream"
        if responseHeadReceived && clientResponseStarted {
            // The body was cut short: the client must see a broken connection, not a complete reply.
            lastError = detail
            if let connection {
                self.connection = nil
                pool?.release(connection, reusable: false)
            }
            abortClient()
            return
        }
        let failure: RetryPolicy.Failure = error is HTTPParserError ? .protocolError : .closedBeforeResponse
        attemptFailed(responseHeadReceived ? .protocolError : failure, detail: detail)
    }

    // MARK: response relay

    private func relayInformational(_ head: HTTPResponseHead) {
        // 100 answers an `Expect` the gateway already handled; others (103) go to HTTP/1.1 clients.
        guard head.status != .continue, clientHead.version == .http1_1, let client, !clientResponseStarted else { return }
        var headers = head.headers
        HopByHopHeaders.remove(from: &headers)
        client.writeResponse(.head(HTTPResponseHead(version: clientHead.version, status: head.status, headers: headers)))
    }

    private func startClientResponse(_ upstream: UpstreamResponseHead, facts: ResponseHeadFacts) {
        guard let client else { return }
        status = Int(upstream.status.code)
        clientKeepAlive = client.canKeepAlive && requestEnded && !loop.draining
        let hasLength = facts.hasContentLength
        let isChunked = facts.hasTransferEncoding
        let mayHaveBody = HeaderRewriter.responseMayHaveBody(method: clientHead.method, status: upstream.status)
        if mayHaveBody && (isChunked || !hasLength) && clientHead.version == .http1_0 {
            clientKeepAlive = false  // an HTTP/1.0 client learns the end of an unsized body from the close
        }
        clientResponseStarted = true
        if client.takesPassedThroughHeads && UpstreamResponseHead.passesThrough(upstream.status, facts) {
            // The common case: the head is written from the upstream's bytes.
            let sized = hasLength && !isChunked
            client.writeResponseHead(passingThrough: upstream, hasLength: sized, requestID: requestID, keepAlive: clientKeepAlive)
            return
        }
        let head = HeaderRewriter.clientResponseHead(
            from: upstream.head,
            clientVersion: clientHead.version,
            requestID: requestID,
            location: LocationRewriter(upstream: endpointURL, publicPrefix: route.publicPrefix),
            keepAlive: clientKeepAlive
        )
        client.writeResponse(.head(head))
    }

    private func completeResponse(trailers: HTTPHeaders?) {
        guard let client else { return }
        // The end is flushed when the client handler finishes the request cycle, after the access
        // log and metrics are written: whoever has seen the response can also see its log line.
        client.writeResponse(.end(trailers))
        if let connection {
            self.connection = nil
            pool?.release(connection, reusable: upstreamKeepAlive && requestFullySent)
        }
        finish(status: status)
    }

    // MARK: upgrades

    /// After `101 Switching Protocols`: both connections leave HTTP and relay bytes until one closes.
    private func establishTunnel() {
        guard let client, let connection, let pool else { return abortClient() }
        cancelAttemptTimers()
        self.connection = nil
        pool.detach(connection)
        let loop = self.loop
        let service = runtime.config.name
        let requestID = self.requestID
        let started = NIODeadline.now()
        let tunnel = Tunnel(eventLoop: loop.eventLoop, idleTimeout: TimeAmount(loop.edge.tunnelIdleTimeout)) { reason in  // not `weak loop`: see LoopContext.track
            loop.logger.debug(
                "upgraded connection ended",
                metadata: [
                    "requestId": "\(requestID)", "service": "\(service)", "reason": "\(reason)",
                    "durationMs": "\((NIODeadline.now() - started).nanoseconds / 1_000_000)",
                ])
        }
        let (clientSide, upstreamSide) = tunnel.makeHandlers()
        do {
            // Client side first, so bytes the upstream sent right after its 101 have somewhere to go.
            try client.becomeTunnel(clientSide)
            try connection.becomeTunnel(upstreamSide)
        } catch {
            tunnel.end(reason: "could not switch: \(error)")
            connection.close()
            finish(status: 502, notifyClient: false)
            return
        }
        loop.track(tunnel)
        self.client = nil
        finish(status: 101, notifyClient: false)
    }

    // MARK: redirects

    private func redirectToFollow(_ head: UpstreamResponseHead) -> RedirectTarget? {
        guard runtime.settings.followRedirects, RedirectTarget.isRedirect(head.status),
            let location = head.headers.first(name: "location"),
            let target = RedirectTarget(location: location, relativeTo: endpoint)
        else { return nil }
        guard redirectsFollowed < runtime.settings.maxRedirects else {
            lastError = "more than \(runtime.settings.maxRedirects) redirects"
            return nil
        }
        let keepsMethod = head.status.code == 307 || head.status.code == 308
        if keepsMethod && !bodyDropped && (replay == nil || !requestEnded) && upstreamMethod != .GET
            && upstreamMethod != .HEAD
        {
            return nil  // the body cannot be sent again: let the client follow it
        }
        return target
    }

    private func follow(_ redirect: RedirectTarget) {
        followingRedirect = nil
        cancelAttemptTimers()
        if let connection {
            self.connection = nil
            pool?.release(connection, reusable: upstreamKeepAlive && requestFullySent)
        }
        redirectsFollowed += 1
        let status = lastRedirectStatus
        var head = followedHead ?? upstreamRequest.head
        head.uri = redirect.target
        head.headers.replaceOrAdd(name: "host", value: redirect.endpoint.authority)
        let changesToGet = status == 303 || ((status == 301 || status == 302) && head.method == .POST)
        if changesToGet && head.method != .HEAD {
            head.method = .GET
            head.headers.remove(name: "content-length")
            head.headers.remove(name: "transfer-encoding")
            head.headers.remove(name: "content-type")
            bodyDropped = true
            unsent.removeAll()
            unsentBytes = 0
            client?.setRequestReadPaused(false)
        } else if !bodyDropped, let replay {
            unsent = replay
            unsentBytes = replayBytes
        }
        followedHead = head
        uncountEndpoint()
        redirectEndpoint = redirect.endpoint
        endpointIndex = nil
        attempts = 0
        beginAttempt()
    }

    private var lastRedirectStatus = 0

    // MARK: timers

    /// The next deadline of this attempt: response headers while waiting for them, otherwise
    /// silence between body chunks.
    private func nextAttemptDeadline() -> NIODeadline {
        if requestFullySent && !responseHeadReceived {
            return requestSentAt + runtime.responseTimeout
        }
        return lastActivity + runtime.idleTimeout
    }

    /// The connection's timer fired for this attempt: act on whichever deadline has passed, or
    /// arm it again for the one ahead.
    func upstreamDeadlinePassed() {
        guard phase == .exchanging, let connection else { return }
        let deadline = nextAttemptDeadline()
        guard NIODeadline.now() >= deadline else {
            // Activity moved the deadline on since it was armed.
            connection.armDeadline(deadline)
            return
        }
        if requestFullySent && !responseHeadReceived {
            attemptFailed(.responseTimeout, detail: "no response headers within \(runtime.settings.timeouts.response)")
            return
        }
        lastError = clientResponseStarted
            ? "idle for \(runtime.settings.timeouts.idle) while streaming" : "idle for \(runtime.settings.timeouts.idle)"
        self.connection = nil
        connection.close()
        pool?.release(connection, reusable: false)
        if clientResponseStarted {
            abortClient()
        } else {
            fail(.idleTimeout)
        }
    }

    private func cancelAttemptTimers() {
        connection?.disarmDeadline()
    }

    // MARK: endings

    /// Answers with the gateway's own JSON error (nothing of the response was sent yet).
    private func fail(_ error: GatewayError) {
        guard phase != .finished else { return }
        cancelAttemptTimers()
        if let connection {
            self.connection = nil
            connection.close()
            pool?.release(connection, reusable: false)
        }
        if lastError == nil { lastError = error.message }
        status = Int(error.status.code)
        let client = self.client
        finish(status: status, notifyClient: false)  // log first, as for a relayed response
        client?.sendError(error, service: runtime.config.name, requestEnded: requestEnded)
    }

    /// The response cannot be completed: close the client connection so the truncation shows.
    private func abortClient() {
        cancelAttemptTimers()
        client?.abortConnection()
        finish(status: status == 0 ? 502 : status)
    }

    private func finish(status: Int, notifyClient: Bool = true) {
        guard phase != .finished else { return }
        phase = .finished
        cancelAttemptTimers()
        backoffTimer?.cancel()
        backoffTimer = nil
        uncountEndpoint()
        uncountPending()
        if admitted {
            runtime.shared.inFlight.wrappingDecrement(ordering: .relaxed)
            serviceMetrics.adjustInFlight(by: -1)
        }
        if countedRetry { runtime.shared.retriesInFlight.wrappingDecrement(ordering: .relaxed) }
        let elapsed = (loop.clock.now() - startTime).nanoseconds
        serviceMetrics.recordRequest(method: clientHead.method, status: status, nanoseconds: elapsed)
        let duration = Double(elapsed) / 1e9
        if let accessLog = loop.accessLog {
            accessLog.write(
                AccessLogEntry(
                    requestID: requestID.description, method: clientHead.method.rawValue,
                    path: RequestTarget.pathOnly(clientHead.uri), service: runtime.config.name, status: status,
                    attempts: attempts, bytesIn: bytesIn, bytesOut: bytesOut, durationSeconds: duration,
                    upstream: endpoint.description, error: lastError
                ).render())
        }
        if elapsed >= runtime.slowThresholdNanoseconds {
            loop.logger.warning(
                "slow response",
                metadata: [
                    "requestId": "\(requestID)", "service": "\(runtime.config.name)", "status": "\(status)",
                    "durationMs": "\(Int(duration * 1000))", "thresholdMs": "\(runtime.settings.slowThreshold)",
                    "path": "\(RequestTarget.pathOnly(clientHead.uri))",
                ])
        }
        let client = self.client
        self.client = nil
        if notifyClient { client?.exchangeFinished(keepAlive: clientKeepAlive) }
    }
}
