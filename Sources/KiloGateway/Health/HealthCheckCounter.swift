/// The threshold logic of active health checks, as a pure value.
///
/// An endpoint starts healthy. A healthy endpoint turns unhealthy after `unhealthyThreshold`
/// consecutive failed checks; an unhealthy one turns healthy after `healthyThreshold`
/// consecutive successful checks. Thresholds below 1 count as 1.
struct HealthCheckCounter: Sendable, Equatable {
    var healthy: Bool
    var consecutiveSuccesses: Int
    var consecutiveFailures: Int

    init(healthy: Bool = true, consecutiveSuccesses: Int = 0, consecutiveFailures: Int = 0) {
        self.healthy = healthy
        self.consecutiveSuccesses = consecutiveSuccesses
        self.consecutiveFailures = consecutiveFailures
    }

    /// Counts one check; returns whether `healthy` changed.
    @discardableResult
    mutating func record(success: Bool, healthyThreshold: Int, unhealthyThreshold: Int) -> Bool {
        if success {
            consecutiveSuccesses += 1
            consecutiveFailures = 0
            if !healthy && consecutiveSuccesses >= max(healthyThreshold, 1) {
                healthy = true
                return true
            }
        } else {
            consecutiveFailures += 1
            consecutiveSuccesses = 0
            if healthy && consecutiveFailures >= max(unhealthyThreshold, 1) {
                healthy = false
                return true
            }
        }
        return false
    }
}
