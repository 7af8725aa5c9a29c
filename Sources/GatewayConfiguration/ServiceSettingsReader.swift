/// Reading the per-service keys, which may appear both under `defaults:` and on each service.
extension ConfigurationReader {
    static let settingsKeys = [
        "timeouts", "pool", "retries", "slowThreshold", "followRedirects", "maxRedirects",
        "balancing", "healthCheck", "outlierDetection", "limits", "maxBodySize", "upstreamTLS",
    ]
    static let timeoutKeys = ["connect", "response", "idle"]
    static let poolKeys = ["maxConnections", "idleTimeout", "maxQueue", "queueTimeout"]
    static let retryKeys = ["attempts", "backoff", "replayBuffer", "budget", "minRetryConcurrency"]
    static let healthCheckKeys = ["path", "interval", "timeout", "healthyThreshold", "unhealthyThreshold"]
    static let outlierDetectionKeys = ["consecutiveFailures", "baseEjectionTime", "maxEjectionTime", "maxEjectionPercent"]
    static let limitKeys = ["maxConcurrentRequests", "maxPendingRequests"]

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
        case "balancing":
            if let value = balancing(entry) { settings.balancing = value }
        case "healthCheck":
            applyHealthCheck(entry, to: &settings.healthCheck)
        case "outlierDetection":
            applyOutlierDetection(entry, to: &settings.outlierDetection)
        case "limits":
            for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
                applyLimit(child, to: &settings.limits)
            }
        case "maxBodySize":
            if let value = byteSize(entry) { settings.maxBodySize = value }
        case "upstreamTLS":
            applyUpstreamTLS(entry, to: &settings.upstreamTLS)
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
        case "budget":
            if let value = self.value(entry, expecting: "a share (\(Percentage.hint))", Percentage.parseFraction) {
                retries.budget = value
            }
        case "minRetryConcurrency": if let value = integer(entry, in: 0...Int.max) { retries.minRetryConcurrency = value }
        default: unknownKey(entry, known: Self.retryKeys)
        }
    }

    private mutating func balancing(_ entry: Entry) -> ServiceSettings.Balancing? {
        let allowed = ServiceSettings.Balancing.allCases.map(\.rawValue)
        return value(entry, expecting: "one of: \(allowed.joined(separator: ", "))") { (text) throws(InvalidValue) in
            guard let balancing = ServiceSettings.Balancing(rawValue: text) else {
                throw InvalidValue("unknown balancing \"\(text)\" (expected one of: \(allowed.joined(separator: ", ")))")
            }
            return balancing
        }
    }

    /// `healthCheck:` is a mapping merged field by field over the inherited check (or the built-in one when
    /// nothing is inherited), `true` for the inherited or built-in check as it is, or `false` for none.
    ///
    /// An empty `healthCheck:` is refused rather than read as `{}`: with its body commented out, it is as
    /// likely meant to be off as on, and the two differ in whether endpoints can be marked down.
    private mutating func applyHealthCheck(_ entry: Entry, to healthCheck: inout ServiceSettings.HealthCheck?) {
        guard case .mapping = entry.value else {
            let enabled = value(entry, expecting: "true, false or a mapping") { (text) throws(InvalidValue) in
                switch text.lowercased() {
                case "true": return true
                case "false": return false
                default: throw InvalidValue("expected true, false or a mapping, got \"\(text)\"")
                }
            }
            if let enabled { healthCheck = enabled ? healthCheck ?? ServiceSettings.HealthCheck() : nil }
            return
        }
        var check = healthCheck ?? ServiceSettings.HealthCheck()
        var written: [String: Entry] = [:]
        for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
            if applyHealthCheckField(child, to: &check) { written[child.name] = child }
        }
        // Checked only when this block set one of the two; inherited values were checked where they were written.
        if check.timeout > check.interval {
            if let timeout = written["timeout"] {
                report(timeout.path, line: timeout.valueLine,
                       "must not be longer than interval (\(check.timeout.configurationText) > \(check.interval.configurationText))")
            } else if let interval = written["interval"] {
                report(interval.path, line: interval.valueLine,
                       "must not be shorter than timeout (\(check.interval.configurationText) < \(check.timeout.configurationText))")
            }
        }
        healthCheck = check
    }

    /// True when the field was set (so relations between fields are checked against it).
    private mutating func applyHealthCheckField(_ entry: Entry, to check: inout ServiceSettings.HealthCheck) -> Bool {
        switch entry.name {
        case "path":
            guard let value = value(entry, expecting: "a path", Self.healthCheckPath) else { return false }
            check.path = value
        case "interval":
            guard let value = duration(entry, positive: true) else { return false }
            check.interval = value
        case "timeout":
            guard let value = duration(entry, positive: true) else { return false }
            check.timeout = value
        case "healthyThreshold":
            guard let value = integer(entry, in: 1...Int.max) else { return false }
            check.healthyThreshold = value
        case "unhealthyThreshold":
            guard let value = integer(entry, in: 1...Int.max) else { return false }
            check.unhealthyThreshold = value
        default:
            unknownKey(entry, known: Self.healthCheckKeys)
            return false
        }
        return true
    }

    /// A path for the check's request line: absolute, and without spaces that would split that line.
    private static func healthCheckPath(_ text: String) throws(InvalidValue) -> String {
        guard text.hasPrefix("/") else { throw InvalidValue("must start with /, got \"\(text)\"") }
        guard !text.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true }) else {
            throw InvalidValue("must not contain spaces or control characters, got \"\(text)\"")
        }
        return text
    }

    private mutating func applyOutlierDetection(_ entry: Entry, to detection: inout ServiceSettings.OutlierDetection) {
        var written: [String: Entry] = [:]
        for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
            var applied = false
            switch child.name {
            case "consecutiveFailures":
                if let value = integer(child, in: 0...Int.max) { detection.consecutiveFailures = value; applied = true }
            case "baseEjectionTime":
                if let value = duration(child, positive: true) { detection.baseEjectionTime = value; applied = true }
            case "maxEjectionTime":
                if let value = duration(child, positive: true) { detection.maxEjectionTime = value; applied = true }
            case "maxEjectionPercent":
                if let value = integer(child, in: 0...100) { detection.maxEjectionPercent = value; applied = true }
            default:
                unknownKey(child, known: Self.outlierDetectionKeys)
            }
            if applied { written[child.name] = child }
        }
        // As for health checks: only a block that set one of the two can have broken their relation.
        if detection.maxEjectionTime < detection.baseEjectionTime {
            let base = detection.baseEjectionTime.configurationText
            let max = detection.maxEjectionTime.configurationText
            if let maxEntry = written["maxEjectionTime"] {
                report(maxEntry.path, line: maxEntry.valueLine, "must not be shorter than baseEjectionTime (\(max) < \(base))")
            } else if let baseEntry = written["baseEjectionTime"] {
                report(baseEntry.path, line: baseEntry.valueLine, "must not be longer than maxEjectionTime (\(base) > \(max))")
            }
        }
    }

    private mutating func applyLimit(_ entry: Entry, to limits: inout ServiceSettings.Limits) {
        switch entry.name {
        case "maxConcurrentRequests": if let value = integer(entry, in: 1...Int.max) { limits.maxConcurrentRequests = value }
        case "maxPendingRequests": if let value = integer(entry, in: 1...Int.max) { limits.maxPendingRequests = value }
        default: unknownKey(entry, known: Self.limitKeys)
        }
    }
}
