import GatewayConfiguration
import NIOCore
import NIOPosix

/// A listener could not be opened; says which address, why, and what to change.
public struct ListenError: Error, CustomStringConvertible {
    /// The configuration key of the listener (`listen` or `tls.listen`).
    public var key: String
    public var address: ListenAddress
    public var reason: String

    init(key: String, address: ListenAddress, underlying: any Error) {
        self.key = key
        self.address = address
        self.reason = UpstreamErrorDescription.describe(underlying)
    }

    public var description: String {
        "cannot listen on \(address) (\(key)): \(reason); another process may hold the port, or the address "
            + "is not one of this machine's — change `\(key)` in the configuration"
    }

    /// Binds, turning a failure into a `ListenError`.
    static func bind(_ bootstrap: ServerBootstrap, _ address: ListenAddress, key: String) async throws -> any Channel {
        do {
            return try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch {
            throw ListenError(key: key, address: address, underlying: error)
        }
    }
}
