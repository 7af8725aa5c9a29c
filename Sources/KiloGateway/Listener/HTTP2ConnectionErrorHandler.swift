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
    private var context: ChannelHandlerContext?
    /// Streams NIO opened and has not closed yet (told by `streamDelegate`).
    private var openStreams: Set<HTTP2StreamID> = []
    private var windingDown = false
    private var graceTimer: Scheduled<Void>?

    init(grace: TimeAmount, logger: Logger) {
        self.grace = grace
        self.logger = logger
    }

    /// The stream delegate to give NIO's HTTP/2 handler: it tells `next` (the connection
    /// manager's) and this handler of each stream opened and closed.
    func streamDelegate(forwardingTo next: any NIOHTTP2StreamDelegate, eventLoop: any EventLoop) -> any NIOHTTP2StreamDelegate {
        StreamDelegate(next: next, handler: NIOLoopBound(self, eventLoop: eventLoop))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        graceTimer?.cancel()  // the connection is gone: the timer need not hold it
        graceTimer = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !windingDown else { return }
        windingDown = true
        logger.debug("HTTP/2 connection winds down after an error", metadata: ["error": "\(error)", "openStreams": "\(openStreams.count)"])
        context.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        if openStreams.isEmpty { return closeAfterFlush(context) }
        let channel = context.channel
        graceTimer = context.eventLoop.assumeIsolated().scheduleTask(in: grace) { channel.close(promise: nil) }
    }

    private func streamClosed(_ id: HTTP2StreamID) {
        openStreams.remove(id)
        if windingDown && openStreams.isEmpty, let context { closeAfterFlush(context) }
    }

    /// Closes once what NIO wrote in answer (GOAWAY, RST_STREAM, a last response) has been flushed.
    private func closeAfterFlush(_ context: ChannelHandlerContext) {
        context.flush()
        let channel = context.channel
        context.eventLoop.assumeIsolated().execute { channel.close(promise: nil) }
    }

    private struct StreamDelegate: NIOHTTP2StreamDelegate {
        let next: any NIOHTTP2StreamDelegate
        let handler: NIOLoopBound<HTTP2ConnectionErrorHandler>

        func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
            next.streamCreated(id, channel: channel)
            handler.value.openStreams.insert(id)
        }

        func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
            next.streamClosed(id, channel: channel)
            handler.value.streamClosed(id)
        }
    }
}
