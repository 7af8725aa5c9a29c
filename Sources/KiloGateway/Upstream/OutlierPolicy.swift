import GatewayConfiguration

/// Passive outlier detection decisions (DESIGN §5), pure: when an endpoint is ejected and for how long.
struct OutlierPolicy {
    var settings: ServiceSettings.OutlierDetection

    /// Whether the failure that brought `consecutiveFailures` to its value ejects the endpoint.
    /// - Parameters:
    ///   - ejectedNow: endpoints of the service already ejected.
    ///   - endpoints: endpoints the service has.
    func shouldEject(consecutiveFailures: Int, ejectedNow: Int, endpoints: Int) -> Bool {
        guard settings.consecutiveFailures > 0, consecutiveFailures >= settings.consecutiveFailures else { return false }
        // Never more than maxEjectionPercent of the service out at once.
        return (ejectedNow + 1) * 100 <= settings.maxEjectionPercent * endpoints
    }

    /// How long the `count`-th ejection of an endpoint lasts: base × count, capped.
    func ejectionTime(count: Int) -> Duration {
        let grown = settings.baseEjectionTime * max(count, 1)
        return min(grown, settings.maxEjectionTime)
    }
}
