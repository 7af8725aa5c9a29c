import GatewayConfiguration
import NIOConcurrencyHelpers

/// Every service's shared endpoint state, keyed by service name, swapped as a whole on reload.
///
/// An endpoint that stays (same service, same URL) keeps its state across a reload, so a
/// reload does not forget an ejection or a failing health check.
public final class UpstreamStates: Sendable {
    /// A service's configuration and its shared state, as of the last reload.
    public struct Entry: Sendable {
        /// The service's configuration.
        public var config: ServiceConfig
        /// Its shared endpoint state.
        public var state: ServiceState
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    init(config: GatewayConfig) {
        update(config)
    }

    /// The current services; cheap to call (copies a dictionary of references).
    public func snapshot() -> [String: Entry] {
        entries.withLockedValue { $0 }
    }

    /// Applies a configuration, reusing the state of endpoints that stay.
    @discardableResult
    func update(_ config: GatewayConfig) -> [String: Entry] {
        entries.withLockedValue { current in
            var next: [String: Entry] = [:]
            for (name, service) in config.services {
                let previous = current[name]?.state.endpoints ?? []
                let state = ServiceState(config: service, reusing: previous)
                next[name] = Entry(config: service, state: state)
            }
            current = next
            return next
        }
    }
}
