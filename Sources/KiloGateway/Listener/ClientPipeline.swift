import NIOCore
import NIOHTTP1

/// The HTTP/1 pipeline of a client connection, shared by the plain listener and by TLS
/// connections that negotiated `http/1.1` (or nothing) by ALPN.
enum ClientPipeline {
    /// Adds the HTTP/1 codec (with the header size limit) and the gateway's connection handler.
    /// Runs on the channel's event loop.
    static func configureHTTP1(_ channel: any Channel, loop: LoopContext, scheme: String) throws {
        let sync = channel.pipeline.syncOperations
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = loop.edge.limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldSize = loop.edge.limits.maxHeaderBytes
        // NIO's server pipeline without its pipelining helper (the connection handler orders
        // requests itself) and with the gateway's response encoder.
        let encoder = ClientResponseEncoder()
        try sync.addHandler(encoder)
        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: decoderLimits)))
        try sync.addHandler(ClientConnectionHandler(loop: loop, scheme: scheme, responseEncoder: encoder))
    }
}
