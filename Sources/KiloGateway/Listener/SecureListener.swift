import GatewayConfiguration
import Logging
import NIOCore
import NIOPosix

/// The TLS listener (`tls:`): its server channel, the certificate store and its file watcher, and
/// the open HTTP/2 connections (for GOAWAY on drain).
final class SecureListener: Sendable {
    let channel: any Channel
    let certificates: CertificateStore
    let http2Connections: HTTP2Connections
    private let watcher: Task<Void, Never>

    private init(channel: any Channel, certificates: CertificateStore, http2Connections: HTTP2Connections, watcher: Task<Void, Never>) {
        self.channel = channel
        self.certificates = certificates
        self.http2Connections = http2Connections
        self.watcher = watcher
    }

    /// Loads the certificate (throwing when it cannot), binds `tls.listen` and starts watching the files.
    static func start(
        _ tls: TLSListener, group: any EventLoopGroup, loops: LoopContexts, logger: Logger,
        reloadInterval: Duration = .seconds(2)
    ) async throws -> SecureListener {
        let certificates = try CertificateStore(
            certificatePath: tls.certificate, keyPath: tls.key, http2: tls.http2, logger: logger)
        let http2Connections = HTTP2Connections()
        let initializer = TLSConnectionInitializer(certificates: certificates, http2Connections: http2Connections)
        let bootstrap = ListenerBootstrap.make(group: group, loops: loops) { channel, loop in
            try initializer.configure(channel, loop: loop)
        }
        let channel = try await ListenError.bind(bootstrap, tls.listen, key: "tls.listen")
        let watcher = Task { await certificates.watch(every: reloadInterval) }
        logger.info(
            "kilo-gateway TLS listening",
            metadata: [
                "address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                "alpn": "\(certificates.applicationProtocols.joined(separator: ","))",
            ])
        return SecureListener(channel: channel, certificates: certificates, http2Connections: http2Connections, watcher: watcher)
    }

    /// The bound port (the real one when the configuration said 0).
    var port: Int? { channel.localAddress?.port }

    /// Stops accepting and watching; HTTP/2 connections get GOAWAY and close when their streams end.
    func beginDrain() async {
        watcher.cancel()
        try? await channel.close()
        http2Connections.quiesce()
    }

    /// End of the drain: whatever HTTP/2 connection is still open is closed.
    func closeEverything() {
        http2Connections.closeAll()
    }
}
