/// Reading the per-service keys, which may appear both under `defaults:` and on each service.
extension ConfigurationReader {
    static let settingsKeys = ["timeouts", "pool", "retries", "slowThreshold", "followRedirects", "maxRedirects"]
    static let timeoutKeys = ["connect", "response", "idle"]
    static let poolKeys = ["maxConnections", "idleTimeout", "maxQueue", "queueTimeout"]
    static let retryKeys = ["attempts", "backoff", "replayBuffer"]

    /// Applies `entry` to `settings` if it is a settings key; false when the key is not one.
    ///
    /// Fields are overwritten one at a time, so a service that sets only `timeouts.response`
    /// keeps whatever connect and idle timeouts `settings` already had from `defaults`.
    mutating func applySetting(_ entry: Entry, to settings: inout ServiceSettings) -> Bool {
        switch entry.name {
        case "timeouts":
            for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
                applyTimeout(child, to: &settings.timeouts)
            }
        case "pool":
            for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
                applyPool(child, to: &settings.pool)
            }
        case "retries":
            for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
                applyRetry(child, to: &settings.retries)
            }
        case "slowThreshold":
            if let value = duration(entry, positive: false) { settings.slowThreshold = value }
        case "followRedirects":
            if let value = bool(entry) { settings.followRedirects = value }
        case "maxRedirects":
            if let value = integer(entry, in: 0...20) { settings.maxRedirects = value }
        default:
            return false
        }
        return true
    }

    private mutating func applyTimeout(_ entry: Entry, to timeouts: inout ServiceSettings.Timeouts) {
        switch entry.name {
        case "connect": if let value = duration(entry, positive: true) { timeouts.connect = value }
        case "response": if let value = duration(entry, positive: true) { timeouts.response = value }
        case "idle": if let value = duration(entry, positive: true) { timeouts.idle = value }
        default: unknownKey(entry, known: Self.timeoutKeys)
        }
    }

    private mutating func applyPool(_ entry: Entry, to pool: inout ServiceSettings.Pool) {
        switch entry.name {
        case "maxConnections": if let value = integer(entry, in: 1...Int.max) { pool.maxConnections = value }
        case "idleTimeout": if let value = duration(entry, positive: true) { pool.idleTimeout = value }
        case "maxQueue": if let value = integer(entry, in: 0...Int.max) { pool.maxQueue = value }
        case "queueTimeout": if let value = duration(entry, positive: true) { pool.queueTimeout = value }
        default: unknownKey(entry, known: Self.poolKeys)
        }
    }

    private mutating func applyRetry(_ entry: Entry, to retries: inout ServiceSettings.Retries) {
        switch entry.name {
        case "attempts": if let value = integer(entry, in: 1...Int.max) { retries.attempts = value }
        case "backoff": if let value = duration(entry, positive: false) { retries.backoff = value }
        case "replayBuffer": if let value = byteSize(entry) { retries.replayBuffer = value }
        default: unknownKey(entry, known: Self.retryKeys)
        }
    }
}
