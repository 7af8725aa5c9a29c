import Logging
import NIOCore
import NIOHTTP2

/// The last handler of an HTTP/2 connection's pipeline. An error that reaches it has been
/// answered already by NIO's HTTP/2 handler (GOAWAY for a connection error, RST_STREAM for an
/// error of one stream), which leaves the connection open either way: after a connection error,
/// such as a header block it would not decode, the client kept waiting for answers that never
/// came (NIO's decoder reads nothing more, not even the acknowledgement of a graceful GOAWAY).
/// So the first error winds the connection down as a drain does (GOAWAY, no new streams) and
/// closes it once no stream is open, at once if none is, and `grace` later at the latest.
final class HTTP2ConnectionErrorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    private let grace: TimeAmount
    private let logger: Logger
    private var openStreams = 0
    private var windingDown = false

    init(grace: TimeAmount, logger: Logger) {
        self.grace = grace
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is NIOHTTP2StreamCreatedEvent:
            openStreams += 1
        case is StreamClosedEvent:
            openStreams -= 1
            if windingDown && openStreams == 0 { closeAfterFlush(context) }
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !windingDown else { return }
        windingDown = true
        logger.debug("HTTP/2 connection winds down after an error", metadata: ["error": "\(error)", "openStreams": "\(openStreams)"])
        context.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        if openStreams == 0 { return closeAfterFlush(context) }
        let channel = context.channel
        context.eventLoop.assumeIsolated().scheduleTask(in: grace) { channel.close(promise: nil) }
    }

    /// Closes once what NIO wrote in answer (GOAWAY, RST_STREAM) has been flushed.
    private func closeAfterFlush(_ context: ChannelHandlerContext) {
        context.flush()
        let channel = context.channel
        context.eventLoop.assumeIsolated().execute { channel.close(promise: nil) }
    }
}
