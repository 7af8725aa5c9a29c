import NIOCore
import NIOHTTP1

/// One connection of a ``DemoUpstream``: reads requests, records them, and hands each to its route.
///
/// Sits behind NIO's server pipeline (decoder, encoder, pipelining assistance), which delivers one request at a time
/// and stops reading while a response is in progress, so this handler sees requests strictly in order.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        /// Waiting for a request head; the idle-close timer may be running.
        case idle
        /// Hashing the body of a request that is answered once it ends.
        case readingBody
        /// Answered or dropped on the head; the rest of the request is ignored.
        case ignoringBody
        /// The request is complete and its response in progress (or, when hanging, never coming).
        case responding
        /// The connection is going away; everything inbound is ignored.
        case closing
    }

    private struct CurrentRequest {
        let head: HTTPRequestHead
        let route: Route
        let behaviour: Behaviour
    }

    private let state: UpstreamState
    private var phase = Phase.idle
    private var context: ChannelHandlerContext?
    private var request: CurrentRequest?
    private var digest = SHA256()
    private var bodyLength = 0
    private var exchange: Exchange?
    private var producer: (any ResponseProducer)?
    private var peerHalfClosed = false
    /// Requests that arrived on this connection before the current one.
    private var earlierRequests = 0
    /// Body bytes after which the current request is dropped (`Behaviour.dropReusedAfterBodyBytes`).
    private var dropAfterBodyBytes: Int?
    private var idleTimer: Scheduled<Void>?
    private var headerDelayTimer: Scheduled<Void>?
    private var lingerTimer: Scheduled<Void>?

    /// How long a lingering close keeps draining an unread request body before giving up on the client.
    private static let lingerTimeout = TimeAmount.seconds(2)
    /// Pause between the last body byte of `/reset` being handed to the kernel and the RST, so a reading peer
    /// receives those bytes first on every platform.
    static let resetGrace = TimeAmount.milliseconds(10)

    init(state: UpstreamState) {
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.tearDown()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.tearDown()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.requestHead(head, context: context)
        case .body(let buffer):
            guard self.phase == .readingBody else { return }
            self.digest.update(buffer: buffer)
            self.bodyLength += buffer.readableBytes
            if let limit = self.dropAfterBodyBytes, self.bodyLength >= limit {
                self.close(context: context)
            }
        case .end:
            self.requestEnd(context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let exchange = self.exchange, exchange.isActive {
            self.producer?.writabilityChanged(exchange)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // The client shut its write side. Finish the response in progress (a half-closing client still reads),
        // otherwise there is nothing left to do on this connection.
        self.peerHalfClosed = true
        switch self.phase {
        case .responding:
            // `exchangeFinished` closes once the response is out; a hung upstream just stays hung.
            break
        case .idle, .closing, .readingBody, .ignoringBody:
            self.close(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Resets and protocol errors (the error handler already answered 400) end the connection.
        self.close(context: context)
    }

    // MARK: - Requests

    private func requestHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard self.phase == .idle else { return }
        self.idleTimer?.cancel()
        self.idleTimer = nil

        let behaviour = self.state.behaviour
        self.dropAfterBodyBytes = nil
        if let limit = behaviour.dropReusedAfterBodyBytes, self.earlierRequests > 0 {
            if limit == 0 {
                self.close(context: context)
                return
            }
            self.dropAfterBodyBytes = limit
        }
        self.earlierRequests += 1
        let target = RequestTarget(head.uri)
        let route = Route(target: target)
        self.request = CurrentRequest(head: head, route: route, behaviour: behaviour)
        self.digest = SHA256()
        self.bodyLength = 0
        let exchange = Exchange(
            head: head,
            target: target,
            authority: self.state.authority,
            keepAlive: head.isKeepAlive && !behaviour.closeAfterResponse,
            context: context,
            onFinish: { [weak self] exchange, ending in self?.exchangeFinished(exchange, ending: ending) }
        )
        self.exchange = exchange

        if behaviour.hang {
            // A hung upstream still drains the request (so the client's upload completes) but never says a word,
            // not even 100 Continue.
            self.phase = .readingBody
            return
        }
        if route.answersBeforeBody {
            self.record(head, bodyLength: -1, digest: "")
            self.phase = .ignoringBody
            if route == .drop {
                self.close(context: context)
            } else {
                self.startResponse(route: route, record: nil, behaviour: behaviour, exchange: exchange, context: context)
            }
            return
        }
        self.phase = .readingBody
        if Self.expectsContinue(head) {
            exchange.writeInformational(.continue)
        }
    }

    private func requestEnd(context: ChannelHandlerContext) {
        guard self.phase == .readingBody, let request = self.request, let exchange = self.exchange else { return }
        let record = self.record(request.head, bodyLength: self.bodyLength, digest: SHA256.hex(self.digest.finalize()))
        self.phase = .responding
        guard !request.behaviour.hang else { return }
        self.startResponse(
            route: request.route,
            record: record,
            behaviour: request.behaviour,
            exchange: exchange,
            context: context
        )
    }

    private func startResponse(
        route: Route,
        record: RecordedRequest?,
        behaviour: Behaviour,
        exchange: Exchange,
        context: ChannelHandlerContext
    ) {
        let producer = route.makeProducer(request: record)
        self.producer = producer
        guard let delay = behaviour.headerDelay, delay > .zero else {
            producer.start(exchange)
            return
        }
        self.headerDelayTimer = context.eventLoop.assumeIsolated().scheduleTask(
            in: .nanoseconds(delay.wholeNanoseconds)
        ) { [weak self] in
            guard let self, self.exchange === exchange, exchange.isActive else { return }
            self.headerDelayTimer = nil
            producer.start(exchange)
        }
    }

    @discardableResult
    private func record(_ head: HTTPRequestHead, bodyLength: Int, digest: String) -> RecordedRequest {
        let record = RecordedRequest(
            method: head.method.rawValue,
            uri: head.uri,
            version: String(describing: head.version),
            headers: head.headers.map { ($0.name, $0.value) },
            bodyLength: bodyLength,
            bodySHA256: digest
        )
        self.state.record(record)
        return record
    }

    private static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.version.major == 1 && head.version.minor >= 1
            && head.headers["expect"].contains { $0.lowercased() == "100-continue" }
    }

    // MARK: - Responses

    private func exchangeFinished(_ exchange: Exchange, ending: Exchange.Ending) {
        guard exchange === self.exchange, let context = self.context else { return }
        self.exchange = nil
        self.producer = nil
        self.request = nil

        switch ending {
        case .complete(let keepAlive):
            // Keep-alive only once the whole request was read; otherwise unread body bytes would be parsed
            // as the next request.
            if keepAlive && self.phase == .responding && !self.peerHalfClosed {
                // Become idle before writing `.end`: the pipelining handler delivers a queued request from
                // inside that write.
                self.phase = .idle
                context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
                if self.phase == .idle {
                    self.armIdleTimer(context: context)
                }
            } else {
                self.phase = .closing
                context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        case .close:
            self.close(context: context)
        case .reset:
            self.phase = .closing
            guard let options = context.channel as? any SocketOptionProvider else {
                context.close(promise: nil)
                return
            }
            options.setSoLinger(NIOLinger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .lingeringClose:
            self.phase = .closing
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(mode: .output, promise: nil)
            }
            self.lingerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerTimeout) {
                context.close(promise: nil)
            }
        }
    }

    /// Like uvicorn, the keep-alive timer runs only after a response, so a fresh connection is never closed
    /// before its first request.
    private func armIdleTimer(context: ChannelHandlerContext) {
        guard let range = self.state.behaviour.idleClose, context.channel.isActive else { return }
        let delay = Duration.random(in: range)
        self.idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay.wholeNanoseconds)) {
            [weak self] in
            guard let self, self.phase == .idle else { return }
            self.idleTimer = nil
            self.close(context: context)
        }
    }

    private func close(context: ChannelHandlerContext) {
        self.phase = .closing
        context.close(promise: nil)
    }

    private func tearDown() {
        self.phase = .closing
        self.idleTimer?.cancel()
        self.headerDelayTimer?.cancel()
        self.lingerTimer?.cancel()
        self.idleTimer = nil
        self.headerDelayTimer = nil
        self.lingerTimer = nil
        self.producer?.cancel()
        self.producer = nil
        self.exchange = nil
        self.request = nil
    }
}
