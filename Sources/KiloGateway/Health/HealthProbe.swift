import GatewayConfiguration
import NIOCore
import NIOHTTP1
import NIOPosix

/// The outcome of one health probe.
enum ProbeResult: Sendable, Equatable {
    /// The endpoint answered with a 2xx status in time.
    case healthy(status: Int)
    /// It did not: a short reason such as "connection refused", "timeout", "status 503".
    case unhealthy(reason: String)

    var isHealthy: Bool {
        if case .healthy = self { return true }
        return false
    }

    /// The reason of an unhealthy result; `nil` when healthy.
    var failureReason: String? {
        if case .unhealthy(let reason) = self { return reason }
        return nil
    }
}

/// One health check: a `GET` of a path on a fresh connection to an endpoint.
///
/// Healthy when a 2xx response head arrives within the timeout (connecting included). The
/// probe never fails its future: every failure is an `.unhealthy` result. Its channel is always
/// closed, also on timeout, so nothing leaks however the endpoint misbehaves.
enum HealthProbe {
    static let userAgent = "kilo-gateway-health"

    /// A probe in flight that can be stopped early (its result is then `.unhealthy("cancelled")`).
    struct Running: Sendable {
        let result: EventLoopFuture<ProbeResult>
        let cancel: @Sendable () -> Void
    }

    /// Probes `url` (its base path, then `path`) on `eventLoop`.
    static func check(
        _ url: UpstreamURL,
        path: String,
        timeout: Duration,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<ProbeResult> {
        start(url, path: path, timeout: timeout, on: eventLoop).result
    }

    /// Like ``check(_:path:timeout:on:)``, with a way to stop the probe (for a cancelled task).
    static func start(
        _ url: UpstreamURL,
        path: String,
        timeout: Duration,
        on eventLoop: any EventLoop
    ) -> Running {
        let promise = eventLoop.makePromise(of: ProbeResult.self)
        let box = NIOLoopBoundBox.makeEmptyBox(valueType: ProbeAttempt.self, eventLoop: eventLoop)
        let target = Self.target(basePath: url.basePath, path: path)
        let begin: @Sendable () -> Void = {
            let attempt = ProbeAttempt(promise: promise, eventLoop: eventLoop)
            box.value = attempt
            attempt.begin(url: url, target: target, timeout: TimeAmount(timeout))
        }
        if eventLoop.inEventLoop {
            begin()
        } else {
            eventLoop.execute(begin)
        }
        // Runs after `begin` (the event loop runs tasks in order), so the attempt is there.
        let cancel: @Sendable () -> Void = {
            eventLoop.execute { box.value?.finish(.unhealthy(reason: "cancelled")) }
        }
        return Running(result: promise.futureResult, cancel: cancel)
    }

    /// The request target: the endpoint's base path, then the check's path.
    static func target(basePath: String, path: String) -> String {
        let path = path.isEmpty ? "/" : (path.hasPrefix("/") ? path : "/" + path)
        return basePath + path
    }
}

/// The state of one probe; confined to its event loop.
final class ProbeAttempt {
    private let promise: EventLoopPromise<ProbeResult>
    private let eventLoop: any EventLoop
    private(set) var isDone = false
    /// The connected channel, once the connect succeeded; only its events count.
    private(set) var channel: (any Channel)?
    /// Every channel made while connecting (several with happy eyeballs), closed when done.
    private var channels: [any Channel] = []
    private var timer: Scheduled<Void>?

    init(promise: EventLoopPromise<ProbeResult>, eventLoop: any EventLoop) {
        self.promise = promise
        self.eventLoop = eventLoop
    }

    func begin(url: UpstreamURL, target: String, timeout: TimeAmount) {
        timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            finish(.unhealthy(reason: "timeout"))
        }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let attempt = bound.value
                    attempt.channelCreated(channel)
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(HTTPRequestEncoder())
                    try sync.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try sync.addHandler(ProbeHandler(attempt: attempt))
                }
            }
        bootstrap.connect(host: url.host, port: url.port).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard !isDone else {
                    channel.close(promise: nil)
                    return
                }
                self.channel = channel
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: url.authority)
                headers.add(name: "User-Agent", value: HealthProbe.userAgent)
                headers.add(name: "Connection", value: "close")
                let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            case .failure(let error):
                finish(.unhealthy(reason: UpstreamErrorDescription.describe(error)))
            }
        }
    }

    private func channelCreated(_ channel: any Channel) {
        if isDone {
            channel.close(promise: nil)
        } else {
            channels.append(channel)
        }
    }

    /// Completes the probe once; closes every channel it made.
    func finish(_ result: ProbeResult) {
        guard !isDone else { return }
        isDone = true
        timer?.cancel()
        timer = nil
        let open = channels
        channels = []
        channel = nil
        promise.succeed(result)
        for channel in open {
            channel.close(promise: nil)
        }
    }
}

/// Reads the response head of a probe and reports it; anything after the head is ignored.
private final class ProbeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let attempt: ProbeAttempt

    init(attempt: ProbeAttempt) {
        self.attempt = attempt
    }

    /// Whether this channel is the probe's connection (not a happy-eyeballs loser) and the probe is still on.
    private func isCurrent(_ context: ChannelHandlerContext) -> Bool {
        !attempt.isDone && attempt.channel === context.channel
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard isCurrent(context), case .head(let head) = unwrapInboundIn(data) else { return }
        let status = Int(head.status.code)
        attempt.finish((200..<300).contains(status) ? .healthy(status: status) : .unhealthy(reason: "status \(status)"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if isCurrent(context) {
            attempt.finish(.unhealthy(reason: UpstreamErrorDescription.describe(error)))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if isCurrent(context) {
            attempt.finish(.unhealthy(reason: "connection closed"))
        }
        context.fireChannelInactive()
    }
}
