#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore

/// The bytes one of the gateway's HTTP/1 encoders writes, on their way to the socket (the
/// decisions are ``OutboxState``'s).
///
/// Small writes are gathered in one buffer, and at the flush a plain TCP socket gets them with
/// one `send(2)` of the outbox's own: NIO's write path (pending-write bookkeeping, a pipeline
/// hop and its channel checks for the write and again for the flush) cost about 3k instructions
/// per socket and request. What the socket does not take (it is full, or it failed) is handed to
/// NIO like any write, and NIO waits for the socket or reports the failure as it would have. The
/// socket is reached the way NIO's `withUnsafeTransportIfAvailable` reaches it, which refuses a
/// closed one.
/// Behind TLS the gathered bytes go to NIO as one write.
///
/// The gathered buffer is kept from request to request, so heads cost no allocation either.
/// Runs on the channel's event loop.
final class SocketOutbox {
    private var state: OutboxState
    /// Bytes written since the last flush.
    private var gathered = ByteBuffer()
    /// The channel's core, looked up at the first send (a conformance check per send costs
    /// more than the send's own work) and let go when the encoder leaves the pipeline.
    private var core: (any NIOTransportAccessibleChannelCore)?
    /// The socket's descriptor, cast from the core's transport at the first send (a dynamic
    /// cast per send cost about 140 instructions). Sends still go through `withUnsafeTransport`,
    /// which refuses a closed socket; an open channel's descriptor never changes.
    private var handle: NIOBSDSocket.Handle?

    /// Room taken when the gathered buffer is first needed: a head and a small body.
    private static let startingCapacity = 2048
    /// A gathered buffer grown past this is let go once sent, not kept for the next request:
    /// a thousand idle keep-alive connections keep at most this much each.
    private static let largestKept = 4096

    /// - Parameter canSend: the encoder is the first handler before a plain TCP socket.
    init(canSend: Bool) {
        state = OutboxState(canSend: canSend)
    }

    /// Writes what `serialise` puts into a buffer: gathered, or, with a promise, through NIO.
    func write(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, _ serialise: (inout ByteBuffer) -> Void) {
        guard promise != nil else {
            if gathered.capacity == 0 { gathered.reserveCapacity(Self.startingCapacity) }
            serialise(&gathered)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 0)
        serialise(&buffer)
        write(.byteBuffer(buffer), context: context, promise: promise)
    }

    func write(_ data: IOData, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let size: Int? =
            switch data {
            case .byteBuffer(let buffer): buffer.readableBytes
            case .fileRegion: nil
            }
        switch state.route(bytes: size, hasPromise: promise != nil) {
        case .gather:
            // Only a buffer has a size, so only a buffer is ever routed here.
            guard case .byteBuffer(var buffer) = data else { return }
            if gathered.capacity == 0 { gathered.reserveCapacity(max(Self.startingCapacity, buffer.readableBytes)) }
            gathered.writeBuffer(&buffer)
        case .nio(let track):
            if gathered.readableBytes > 0 { handGathered(context: context, track: false) }  // ahead of this write, in order
            context.write(NIOAny(data), promise: track ? tracking(promise, context: context) : promise)
        }
    }

    /// Sends what was gathered (or has NIO flush).
    func flush(context: ChannelHandlerContext) {
        switch state.flush(gathered: gathered.readableBytes) {
        case .nothing:
            return
        case .send:
            let sent = send(context: context)
            if sent == gathered.readableBytes {
                if gathered.capacity > Self.largestKept { gathered = ByteBuffer() } else { gathered.clear() }
                return
            }
            gathered.moveReaderIndex(forwardBy: sent)
            state.sendFellShort()
            handGathered(context: context, track: true)
            context.flush()
        case .nio(let track):
            if gathered.readableBytes > 0 { handGathered(context: context, track: track) }
            context.flush()
        }
    }

    /// Sends what was gathered; then a future that completes once NIO has written every byte it
    /// holds of this connection, or `nil` when it holds none (so a close now drops nothing: NIO
    /// fails the writes still pending at a full close). Behind TLS always a future.
    func writesDone(context: ChannelHandlerContext) -> EventLoopFuture<Void>? {
        flush(context: context)
        guard state.nioMayHoldBytes else { return nil }
        // NIO writes in order: an empty write's promise completes after everything before it.
        // NIOSSL keeps that order too: the promise goes with the records before it, or with an
        // empty write of its own behind them.
        let promise = context.eventLoop.makePromise(of: Void.self)
        write(.byteBuffer(ByteBuffer()), context: context, promise: promise)
        context.flush()
        return promise.futureResult
    }

    /// The encoder leaves the pipeline: what was gathered goes to NIO, for whatever follows.
    func handOver(context: ChannelHandlerContext) {
        core = nil
        handle = nil
        if gathered.readableBytes > 0 { handGathered(context: context, track: false) }
    }

    private func handGathered(context: ChannelHandlerContext, track: Bool) {
        let bytes = gathered
        gathered = ByteBuffer()  // NIO holds those bytes now: the next ones get a buffer of their own
        context.write(NIOAny(IOData.byteBuffer(bytes)), promise: track ? tracking(nil, context: context) : nil)
    }

    /// A promise that tells the state when NIO is done with a write (made when the writer gave none).
    private func tracking(_ promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) -> EventLoopPromise<Void> {
        let promise = promise ?? context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { [self] _ in state.nioWriteCompleted() }
        return promise
    }

    /// Sends the gathered bytes; returns how many the socket took (0 when it took none, failed or
    /// is closed: NIO then tries and reports).
    private func send(context: ChannelHandlerContext) -> Int {
        guard let core = socketCore(context) else { return 0 }
        return (try? Self.send(gathered, through: core, handle: &handle)) ?? 0
    }

    /// Asks the channel for its next read straight from its core, as the pipeline's head would
    /// (`HeadChannelHandler.read` calls `read0()`), without the hops from the caller to the head.
    /// Only before a plain socket; `false` otherwise (the caller reads through the pipeline).
    func read(context: ChannelHandlerContext) -> Bool {
        guard state.canSend, let core = socketCore(context) else { return false }
        core.read0()
        return true
    }

    private func socketCore(_ context: ChannelHandlerContext) -> (any NIOTransportAccessibleChannelCore)? {
        if core == nil { core = context.channel._channelCore as? any NIOTransportAccessibleChannelCore }
        return core
    }

    /// What `ChannelPipeline.SynchronousOperations.withUnsafeTransportIfAvailable` does, with a
    /// cast to the plain protocol (a conformance lookup the runtime caches) where that method
    /// casts to the protocol parameterised by the transport type, which demangles types on every
    /// call (about 13k instructions, and start-up of the runtime's demangler in memory).
    /// `withUnsafeTransport` throws once NIO closed the socket.
    private static func send<Core: NIOTransportAccessibleChannelCore>(
        _ bytes: ByteBuffer, through core: Core, handle: inout NIOBSDSocket.Handle?
    ) throws -> Int {
        try core.withUnsafeTransport { transport in
            if handle == nil { handle = transport as? NIOBSDSocket.Handle }
            guard let socket = handle else { return 0 }
            return bytes.withUnsafeReadableBytes { bytes in
                var sent = 0
                while sent < bytes.count {
                    let result = Self.send(socket, bytes.baseAddress! + sent, bytes.count - sent)
                    if result > 0 {
                        sent += result
                    } else if result < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                return sent
            }
        }
    }

    private static func send(_ socket: NIOBSDSocket.Handle, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.send(socket, bytes, count, CInt(MSG_NOSIGNAL) | CInt(MSG_DONTWAIT))
        #else
        Musl.send(socket, bytes, count, CInt(MSG_NOSIGNAL) | CInt(MSG_DONTWAIT))
        #endif
    }
}
