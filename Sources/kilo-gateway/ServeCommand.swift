import ArgumentParser
import GatewayConfiguration
import KiloGateway
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Serves the configured routes until SIGTERM/SIGINT, then drains.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the gateway.")

    @Option(name: .long, help: "Configuration file (default: $KILO_GATEWAY_CONFIG or config/gateway.yaml).")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let path = config ?? ProcessEnvironment.value("KILO_GATEWAY_CONFIG") ?? "config/gateway.yaml"
        let gatewayConfig: GatewayConfig
        do {
            gatewayConfig = try ConfigurationLoader.load(path: path)
        } catch {
            printError(error)
            throw ExitCode(1)
        }
        var logger = Logger(label: "kilo-gateway")
        logger.logLevel = logLevel
        let server = GatewayServer(config: gatewayConfig, logger: logger, afterStart: { StartupPages.release() })
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: server),
                    .init(service: ConfigWatcher(path: path, server: server, logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
        try await group.run()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Reads environment variables without Foundation.
enum ProcessEnvironment {
    static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(cString: raw)
    }
}
