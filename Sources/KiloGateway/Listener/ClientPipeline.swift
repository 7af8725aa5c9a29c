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
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: false,
            withErrorHandling: false,
            // Response headers are either parsed by NIO from the upstream (no CR/LF can survive that)
            // or written by the gateway itself, so re-validating every value would be pure cost.
            withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits
        )
        try sync.addHandler(ClientConnectionHandler(loop: loop, scheme: scheme))
    }
}
