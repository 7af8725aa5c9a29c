import NIOCore
import NIOHTTP1

/// The HTTP/1 pipeline of a client connection, shared by the plain listener and by TLS
/// connections that negotiated `http/1.1` (or nothing) by ALPN.
enum ClientPipeline {
    /// Adds the HTTP/1 codec (with the head size limit) and the gateway's connection handler.
    /// Runs on the channel's event loop.
    static func configureHTTP1(_ channel: any Channel, loop: LoopContext, scheme: String) throws {
        let sync = channel.pipeline.syncOperations
        // No pipelining helper (the connection handler orders requests itself); the gateway's own
        // decoder and encoder instead of NIO's.
        // Plain http is the listener's TCP socket itself; https has the TLS handler before it.
        let encoder = ClientResponseEncoder(sendsItself: scheme == "http")
        let handler = ClientConnectionHandler(loop: loop, scheme: scheme, responseEncoder: encoder)
        try sync.addHandler(encoder)
        try sync.addHandler(HTTP1Decoder(.request, maxHeadBytes: loop.edge.limits.maxHeaderBytes, sink: handler, clock: loop.clock))
        try sync.addHandler(handler)
    }
}
