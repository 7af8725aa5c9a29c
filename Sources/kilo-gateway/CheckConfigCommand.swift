import ArgumentParser
import GatewayConfiguration

/// Validates a configuration file without serving, like `nginx -t`.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file; exit 0 when valid, 1 with every problem listed otherwise."
    )

    @Argument(help: "Path of the YAML configuration.")
    var path: String

    func run() throws {
        do {
            let config = try ConfigurationLoader.load(path: path)
            print("\(path): configuration is valid (\(config.services.count) services, \(config.aliases.count) aliases, listen \(config.listen))")
        } catch {
            printError(error)
            throw ExitCode(1)
        }
    }
}

/// Writes a configuration error to standard error, one problem per line.
func printError(_ error: ConfigurationError) {
    var standardError = StandardError()
    print("\(error)", to: &standardError)
}

/// Standard error as a `TextOutputStream`.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileDescriptorWriter.write(string, to: 2)
    }
}
