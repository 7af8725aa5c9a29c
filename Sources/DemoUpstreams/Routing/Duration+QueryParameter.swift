extension Duration {
    /// Parses query-string durations such as `250ms`, `2s`, `1.5s`, `500us` or `1m`; a bare number means milliseconds.
    init?(queryParameter text: String) {
        let units: [(suffix: String, nanoseconds: Double)] = [
            ("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9),
        ]
        var number = Substring(text)
        var scale = 1e6
        for unit in units where text.hasSuffix(unit.suffix) {
            number = number.dropLast(unit.suffix.count)
            scale = unit.nanoseconds
            break
        }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        self = .nanoseconds(Int64(value * scale))
    }

    /// Whole nanoseconds, saturating, for NIO's `TimeAmount`.
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// A uniformly random duration within `range`.
    static func random(in range: ClosedRange<Duration>) -> Duration {
        let low = range.lowerBound.wholeNanoseconds
        let high = range.upperBound.wholeNanoseconds
        return .nanoseconds(Int64.random(in: low...max(low, high)))
    }
}
