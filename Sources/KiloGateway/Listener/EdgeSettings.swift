import GatewayConfiguration

/// The client-facing settings an event loop applies per connection and request, taken from
/// the configuration (and replaced on reload).
struct EdgeSettings {
    var limits: ClientLimits
    var underscores: UnderscorePolicy
    var trustedProxies: [CIDR]
    var tunnelIdleTimeout: Duration
    /// Client connections allowed on one event loop (`limits.maxConnections` split across loops).
    var maxConnectionsPerLoop: Int

    init(config: GatewayConfig, loopCount: Int) {
        self.limits = config.limits
        self.underscores = config.headers.underscores
        self.trustedProxies = config.trustedProxies
        self.tunnelIdleTimeout = config.websocket.idleTimeout
        let loops = max(loopCount, 1)
        self.maxConnectionsPerLoop = max(1, (config.limits.maxConnections + loops - 1) / loops)
    }

    /// Whether a peer's own `X-Forwarded-*` headers are believed.
    func trusts(_ address: String?) -> Bool {
        guard let address, !trustedProxies.isEmpty else { return false }
        return trustedProxies.contains { $0.contains(address) }
    }
}
