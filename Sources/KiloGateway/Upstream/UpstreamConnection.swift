import NIOCore
import NIOHTTP1

/// What an exchange hears from the upstream connection it leased.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstreamReceived(_ part: HTTP1Parser.Part)
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection closed (by the peer, an error, or us); `error` is the first error seen.
    func upstreamClosed(error: (any Error)?)
    /// The deadline last armed with `armDeadline` has passed.
    func upstreamDeadlinePassed()
}

/// One keep-alive connection to an upstream endpoint, and the last handler in its pipeline.
///
/// While leased it forwards response parts to its exchange and only reads when the exchange
/// allows (backpressure from a slow client). While idle it keeps reading so that a close by
/// the upstream is seen at once and the connection leaves the pool.
final class UpstreamConnection: ChannelDuplexHandler, RemovableChannelHandler, HTTP1MessageSink {
    typealias InboundIn = Never
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    let id: Int
    /// Requests started on this connection; above zero it is a reused connection.
    private(set) var requestsStarted = 0
    /// Strong, not `weak` (a weak reference gives the pool a side table and makes each of its
    /// retains per request the runtime's slow kind): the pool holds its connections, and the
    /// cycle ends when the connection closes (`channelInactive`) or leaves the pool.
    var pool: UpstreamPool?
    /// The exchange holding the lease, if any; leaving it disarms the deadline.
    var delegate: (any UpstreamConnectionDelegate)? {
        didSet { armed = false }
    }
    /// When it was last parked idle in the pool (the pool's sweep closes it after `idleTimeout`).
    var idleSince = NIODeadline.uptimeNanoseconds(0)

    private var context: ChannelHandlerContext?
    private var readGate = ReadGate()
    private var firstError: (any Error)?
    private(set) var isClosed = false

    /// The exchange asked to hear from the timer. One timer per connection serves every request
    /// on it: arming schedules it only when it is not already due to fire by the deadline, and the
    /// exchange re-arms when it fires early (its deadline moved on). A timer per request would cost
    /// an allocation, a heap insert and a cancellation on every request.
    private var armed = false
    private var timer: Scheduled<Void>?
    private var timerFiresAt = NIODeadline.uptimeNanoseconds(0)

    init(id: Int) {
        self.id = id
    }

    /// Mirrors the channel's writability from its change events (see `ClientConnectionHandler.isWritable`).
    var isWritable: Bool { context != nil && channelWritable }
    private var channelWritable = true
    var isActive: Bool { !isClosed && (context?.channel.isActive ?? false) }
    var isReused: Bool { requestsStarted > 1 }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        channelWritable = context.channel.isWritable
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        requestEncoder = nil
        responseDecoder = nil
    }

    /// Marks the start of a request on this connection.
    func beginRequest(delegate: any UpstreamConnectionDelegate) {
        requestsStarted += 1
        self.delegate = delegate
        setReadPaused(false)
    }

    /// The codec before this handler (set when the pipeline is built; cleared when it is taken
    /// down, which also breaks the decoder's reference back to this handler).
    var requestEncoder: UpstreamRequestEncoder?
    var responseDecoder: HTTP1Decoder?

    /// Writes a request head that `serialise` puts into a buffer (`chunked`: it says
    /// `Transfer-Encoding: chunked`); the response decoder learns whether it answers a `HEAD`.
    func writeHead(method: HTTPMethod, chunked: Bool, _ serialise: (inout ByteBuffer) -> Void) {
        responseDecoder?.expectResponse(toHEAD: method.isHEAD)
        requestEncoder?.writeHead(chunked: chunked, serialise)
    }

    /// Writes a body part or the end (nothing once the connection left HTTP).
    func write(_ part: HTTPClientRequestPart) {
        requestEncoder?.write(part)
    }

    func flush() {
        requestEncoder.flush(orFrom: context)
    }

    /// Tells the delegate `upstreamDeadlinePassed()` no later than `deadline` (and possibly
    /// earlier: the delegate checks its own deadlines then and arms again), unless the delegate
    /// leaves or disarms first.
    func armDeadline(_ deadline: NIODeadline) {
        armed = true
        if timer != nil && timerFiresAt <= deadline { return }
        timer?.cancel()
        guard let context, !isClosed else { return }
        timerFiresAt = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard armed else { return }
            armed = false
            delegate?.upstreamDeadlinePassed()
        }
    }

    /// The delegate needs no deadline for now; a scheduled timer fires for nothing.
    func disarmDeadline() {
        armed = false
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        armed = false
    }

    /// Stops or resumes reading from the upstream (a slow client slows the upstream down).
    func setReadPaused(_ paused: Bool) {
        if readGate.setPaused(paused), let context { requestEncoder.read(orFrom: context) }
    }

    /// Turns this HTTP connection into one side of a tunnel: the HTTP handlers leave the
    /// pipeline, the tunnel handler takes their place, and bytes already read after the
    /// `101` are handed to it.
    func becomeTunnel(_ tunnel: TunnelHandler) throws {
        guard let context else { throw ChannelError.ioOnClosedChannel }
        delegate = nil
        pool = nil
        cancelTimer()
        let pipeline = context.pipeline.syncOperations
        try pipeline.addHandler(tunnel)
        pipeline.removeHandler(context: context, promise: nil)
        pipeline.removeHandler(try pipeline.handler(type: HTTP1Decoder.self), promise: nil)
        pipeline.removeHandler(try pipeline.handler(type: UpstreamRequestEncoder.self), promise: nil)
        if readGate.isPaused { context.channel.read() }
    }

    /// Closes the connection; `delegate` is detached first so it hears nothing more.
    func close() {
        delegate = nil
        guard !isClosed else { return }
        isClosed = true
        cancelTimer()
        context?.close(promise: nil)
    }

    // MARK: channel events

    /// The response parts, straight from the ``HTTP1Decoder`` before this handler.
    func received(_ part: HTTP1Parser.Part) {
        guard let delegate else {
            // Bytes on an idle connection: the upstream is confused; never reuse it.
            return close()
        }
        delegate.upstreamReceived(part)
    }

    /// The end of a burst of reads, straight from the ``HTTP1Decoder``.
    func readComplete() {
        delegate?.upstreamReadComplete()
        if !readGate.isPaused { requestEncoder?.readAhead() }  // as `read(context:)` would pass NIO's read on
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        channelWritable = context.channel.isWritable
        delegate?.upstreamWritabilityChanged(isWritable: channelWritable)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if firstError == nil { firstError = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        cancelTimer()
        if let delegate {
            self.delegate = nil
            delegate.upstreamClosed(error: firstError)
        }
        pool?.connectionClosed(self)
        pool = nil
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if readGate.allowRead() { requestEncoder.read(orFrom: context) }
    }
}
