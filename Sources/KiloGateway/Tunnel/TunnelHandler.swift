import NIOCore

/// One side of a byte relay after a protocol upgrade (WebSocket): what it reads is written to
/// its peer, and it reads only while the peer can write, so a slow side slows the other down.
///
/// Frames, close codes, ping and pong pass untouched: the gateway does not parse WebSocket.
final class TunnelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The other side; cleared when the tunnel ends, which breaks the reference cycle.
    var peer: TunnelHandler?
    /// Strong on purpose: the pipelines hold the handlers, the handlers hold the tunnel; `Tunnel.end` breaks the cycle.
    private(set) var tunnel: Tunnel?
    private(set) var context: ChannelHandlerContext?
    private var readGate = ReadGate()
    private var closed = false

    init(tunnel: Tunnel) {
        self.tunnel = tunnel
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !context.channel.isActive { tunnel?.sideClosed(self) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func setReadPaused(_ paused: Bool) {
        if readGate.setPaused(paused) { context?.read() }
    }

    /// The peer finished sending: finish ours too, keeping the read side open for its last bytes.
    func peerInputClosed() {
        guard let context, !closed else { return }
        context.close(mode: .output, promise: nil)
    }

    func close() {
        guard !closed else { return }
        closed = true
        context?.close(promise: nil)
    }

    /// Forgets the peer and the tunnel (the end of the tunnel).
    func detach() {
        peer = nil
        tunnel = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        tunnel?.touch()
        peer?.write(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        peer?.flush()
        if let peer, !peer.isWritable { setReadPaused(true) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        peer?.setReadPaused(!context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            tunnel?.sideHalfClosed(self)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        tunnel?.sideClosed(self)
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if readGate.allowRead() { context.read() }
    }
}
