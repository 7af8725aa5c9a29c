import GatewayConfiguration
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Watches the configuration file and applies each valid new version to the running server.
///
/// It compares the file's bytes on a short interval rather than relying on inotify, so it also
/// sees Kubernetes' ConfigMap update (an atomic swap of a `..data` symlink, which replaces the
/// file without writing to it). An invalid version is logged with every problem and ignored:
/// the running configuration stays until a valid one appears.
public struct ConfigWatcher: Service {
    private let path: String
    private let server: GatewayServer
    private let logger: Logger
    private let interval: Duration
    private let environment: [String: String]?

    /// - Parameters:
    ///   - interval: how often the file is read and compared.
    ///   - environment: variables for `${VAR}` interpolation; the process environment when `nil`.
    public init(path: String, server: GatewayServer, logger: Logger, interval: Duration = .seconds(2), environment: [String: String]? = nil) {
        self.path = path
        self.server = server
        self.logger = logger
        self.interval = interval
        self.environment = environment
    }

    /// Runs until cancelled or until graceful shutdown begins.
    public func run() async throws {
        // Cancelled on graceful shutdown, so the sleep below ends at once instead of after `interval`.
        try? await cancelWhenGracefulShutdown {
            try await watch()
        }
    }

    private func watch() async throws {
        var lastSeen = Self.read(path)
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            let current = Self.read(path)
            guard let current, current != lastSeen else { continue }
            lastSeen = current
            do {
                let config =
                    try environment.map { try ConfigurationLoader.parse(yaml: current, environment: $0) }
                    ?? ConfigurationLoader.load(path: path)
                await server.apply(config)
                server.metrics.recordConfigReload(success: true)
                logger.info("configuration reloaded", metadata: ["path": "\(path)"])
            } catch {
                server.metrics.recordConfigReload(success: false)
                logger.error(
                    "configuration change refused; the running configuration stays",
                    metadata: ["path": "\(path)", "problems": "\(error)"])
            }
        }
    }

    /// The file's contents, or `nil` while it is missing (a swap in progress).
    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
