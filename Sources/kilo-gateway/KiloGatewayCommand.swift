import ArgumentParser

/// `kilo-gateway`: serve, check-config, demo, version.
@main
struct KiloGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kilo-gateway",
        abstract: "An API gateway for the household platform: /api/{service}/{path} to its upstreams.",
        version: GatewayVersion.current,
        subcommands: [ServeCommand.self, CheckConfigCommand.self, DemoCommand.self, VersionCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}

/// The version printed by `kilo-gateway version`.
enum GatewayVersion {
    static let current = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("kilo-gateway \(GatewayVersion.current)")
    }
}
