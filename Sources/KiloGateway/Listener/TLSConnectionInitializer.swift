import GatewayConfiguration
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import NIOTLS

/// The pipeline of a connection accepted by the TLS listener: TLS, then ALPN chooses between
/// HTTP/2 (each stream its own child channel, proxied independently) and HTTP/1.1.
struct TLSConnectionInitializer: Sendable {
    let certificates: CertificateStore
    let http2Connections: HTTP2Connections

    /// How much request body an HTTP/2 client may send on one stream before the gateway has
    /// passed it on (the flow-control window the gateway keeps topped up; HTTP/2's default is
    /// 64 KiB). It bounds what a stream can hold in the gateway while its upstream is slow, so a
    /// connection holds at most `limits.http2MaxConcurrentStreams` times this. A stream's upload
    /// moves at most one window per round trip: through a relay adding 5 ms of round trip, a
    /// 64 MiB upload went from 4.9-5.1 MB/s (64 KiB) to 21.3-22.3 MB/s. One 1 GiB upload over
    /// plain loopback went from 162-209 MiB/s at 4.1-4.9 CPU s to 270-355 MiB/s at 2.7-3.1 s.
    static let http2StreamWindow = 256 * 1024
    /// The same for the whole connection (HTTP/2's default is 64 KiB as well): NIO keeps it
    /// topped up as frames arrive, so the stream windows are what bound memory.
    static let http2ConnectionWindow = 1024 * 1024

    /// The header list size advertised to HTTP/2 clients, which NIO's decoder enforces once a
    /// client acknowledged it: twice `limits.http2MaxHeaderListSize`, so that a request above the
    /// limit gets its 431 on its own stream (`ClientConnectionHandler`) while the connection and
    /// its other streams go on; a header block larger still is a connection error. Until the client
    /// acknowledged the gateway's settings, NIO holds header lists to 16 KiB.
    static func advertisedHeaderListSize(limit: Int) -> Int {
        min(max(limit, 0), Int(UInt32.max) / 2) * 2
    }

    /// Runs on the new connection's event loop.
    func configure(_ channel: any Channel, loop: LoopContext) throws {
        let sync = channel.pipeline.syncOperations
        // The context is taken once per connection: a reload affects only later connections.
        try sync.addHandler(NIOSSLServerHandler(context: certificates.current))
        let loopBox = NIOLoopBound(loop, eventLoop: channel.eventLoop)
        let alpn = ApplicationProtocolNegotiationHandler { [self] result, channel in
            channel.eventLoop.makeCompletedFuture {
                switch result {
                case .negotiated("h2"):
                    try configureHTTP2(channel, loop: loopBox.value)
                case .negotiated("http/1.1"), .fallback:
                    try ClientPipeline.configureHTTP1(channel, loop: loopBox.value, scheme: "https")
                case .negotiated:
                    throw NIOHTTP2Errors.invalidALPNToken()
                }
            }
        }
        try sync.addHandler(alpn)
    }

    private func configureHTTP2(_ channel: any Channel, loop: LoopContext) throws {
        let limits = loop.edge.limits
        let manager = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: TimeAmount(limits.keepAliveTimeout), maxAge: nil, maxGraceTime: nil, keepalive: nil))
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.targetWindowSize = Self.http2ConnectionWindow
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: limits.http2MaxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: Self.advertisedHeaderListSize(limit: limits.http2MaxHeaderListSize)),
        ]
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = Self.http2StreamWindow
        let loopBox = NIOLoopBound(loop, eventLoop: channel.eventLoop)
        let errors = HTTP2ConnectionErrorHandler(grace: TimeAmount(limits.keepAliveTimeout), logger: loop.logger)
        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: stream,
            streamDelegate: errors.streamDelegate(forwardingTo: manager.http2StreamDelegate, eventLoop: channel.eventLoop)
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                let sync = streamChannel.pipeline.syncOperations
                try sync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try sync.addHandler(
                    ClientConnectionHandler(loop: loopBox.value, scheme: "https", isHTTP2Stream: true))
            }
        }
        try channel.pipeline.syncOperations.addHandler(manager)
        try channel.pipeline.syncOperations.addHandler(errors)
        http2Connections.add(channel)
    }
}

/// Open HTTP/2 connections, so a drain can send them GOAWAY (their streams are tracked as
/// client handlers already; the connection itself is not).
final class HTTP2Connections: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [channels] _ in
            channels.withLockedValue { _ = $0.removeValue(forKey: id) }
        }
    }

    /// GOAWAY: no new streams; each connection closes once its streams are done.
    func quiesce() {
        for channel in channels.withLockedValue({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    func closeAll() {
        for channel in channels.withLockedValue({ Array($0.values) }) {
            channel.close(promise: nil)
        }
    }

    var count: Int { channels.withLockedValue { $0.count } }
}
