import NIOCore

/// The handler that hears an HTTP/1 connection's messages from its ``HTTP1Decoder``.
protocol HTTP1MessageSink: AnyObject {
    /// The next part of the incoming message stream. Called during the decoder's `channelRead`
    /// (or at the end of input), on the channel's event loop.
    func received(_ part: HTTP1Parser.Part)
    /// The end of a burst of reads (`channelReadComplete`), also straight from the decoder: the
    /// sink is the pipeline's last handler, and the event goes no further.
    func readComplete()
}

/// Decodes the bytes of an HTTP/1 connection with ``HTTP1Parser`` and hands each part straight
/// to its sink, the next handler (the client's connection handler, or the upstream connection),
/// instead of wrapping it and sending it down the pipeline. Replacing NIO's decoders (llhttp
/// behind `ByteToMessageHandler`) with it took a proxied request from 79.5k to 63.2k
/// instructions (bench/profile).
///
/// Parse errors go down the pipeline as `errorCaught`, and the decoder parses nothing more.
/// Bytes left after an upgrade are passed on, as plain bytes, to whatever handler follows it
/// once it is removed (the tunnel).
///
/// Not generic over its sink: NIO calls a handler through its protocol witnesses, and a generic
/// class's witnesses run unspecialised code (`unwrapInboundIn` alone then cost about 400
/// instructions per read, in dynamic casts).
final class HTTP1Decoder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private(set) var parser: HTTP1Parser
    private let sink: any HTTP1MessageSink
    /// The event loop's clock: a read is handled in one of its scopes (see ``LoopClock``).
    private let clock: LoopClock?
    /// Bytes read but not parsed yet: the start of a head or of a chunk-size line.
    private var pending: ByteBuffer?
    private var failed = false
    private var inputEnded = false
    private var removed = false

    init(_ mode: HTTP1Parser.Mode, maxHeadBytes: Int, sink: any HTTP1MessageSink, clock: LoopClock? = nil) {
        self.parser = HTTP1Parser(mode: mode, maxHeadBytes: maxHeadBytes)
        self.sink = sink
        self.clock = clock
    }

    /// Response mode: the request about to be sent is a `HEAD` (its response has no body).
    func expectResponse(toHEAD: Bool) {
        parser.answeringHEAD = toHEAD
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let opened = clock?.openScope() ?? false
        defer { if opened { clock?.closeScope() } }
        var buffer = unwrapInboundIn(data)
        if var earlier = pending {
            pending = nil
            earlier.writeBuffer(&buffer)
            buffer = earlier
        }
        guard !failed else { return }
        decode(&buffer, context: context)
        if buffer.readableBytes > 0 {
            // Kept in a buffer of its own, not as a slice pinning the whole read buffer.
            var kept = context.channel.allocator.buffer(capacity: buffer.readableBytes)
            kept.writeBuffer(&buffer)
            pending = kept
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        sink.readComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        endInput(context: context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { endInput(context: context) }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
        if let rest = pending {
            pending = nil
            passOn(rest, context: context)
        }
    }

    /// After an upgrade the rest belongs to the next protocol, which follows this decoder once
    /// it is removed (possibly while the upgrade's last part is being delivered).
    private func passOn(_ rest: ByteBuffer, context: ChannelHandlerContext) {
        if parser.isUpgraded && !failed && rest.readableBytes > 0 && context.channel.isActive {
            context.fireChannelRead(wrapInboundOut(rest))
        }
    }

    private func decode(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        do {
            while let part = try parser.next(&buffer) {
                sink.received(part)
                if removed {
                    passOn(buffer, context: context)
                    buffer.clear()
                    return
                }
            }
        } catch {
            failed = true
            buffer.clear()
            context.fireErrorCaught(error)
        }
    }

    private func endInput(context: ChannelHandlerContext) {
        guard !inputEnded else { return }
        inputEnded = true
        guard !failed else { return }
        do {
            if let part = try parser.endOfInput(hasLeftover: (pending?.readableBytes ?? 0) > 0) { sink.received(part) }
        } catch {
            failed = true
            context.fireErrorCaught(error)
        }
    }
}
