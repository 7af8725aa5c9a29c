extension Duration {
    /// Shown with every refused duration so the fix is in the message.
    static let configurationUnitsHint = "use 500ms, 10s, 2m, 1h"

    /// Parses a configuration duration: a decimal number and one unit, as in `500ms`, `1.5s`, `2m`, `1h`.
    ///
    /// A unit is mandatory: a bare `30` could mean seconds or milliseconds, and guessing wrong
    /// by a factor of 1000 on a timeout is worse than refusing the file.
    init(configuration text: String) throws(InvalidValue) {
        let numberEnd = text.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? text.endIndex
        let number = text[..<numberEnd]
        let unit = text[numberEnd...]
        let hint = Self.configurationUnitsHint
        guard let (whole, fraction) = Self.splitDecimal(number) else {
            throw InvalidValue("invalid duration \"\(text)\" (\(hint))")
        }
        if unit.isEmpty {
            throw InvalidValue("invalid duration \"\(text)\": a unit is required (\(hint))")
        }
        let nanosecondsPerUnit: Int64
        switch unit {
        case "ms": nanosecondsPerUnit = 1_000_000
        case "s": nanosecondsPerUnit = 1_000_000_000
        case "m": nanosecondsPerUnit = 60_000_000_000
        case "h": nanosecondsPerUnit = 3_600_000_000_000
        default: throw InvalidValue("invalid duration \"\(text)\" (\(hint))")
        }
        guard let wholeValue = Int64(whole) else {
            throw InvalidValue("duration \"\(text)\" is too large")
        }
        let (wholeNanoseconds, overflow) = wholeValue.multipliedReportingOverflow(by: nanosecondsPerUnit)
        // A fraction only ever adds less than one unit, so Double's precision is ample here.
        let fractionNanoseconds = fraction.isEmpty
            ? 0
            : Int64((Double("0." + fraction)! * Double(nanosecondsPerUnit)).rounded())
        let (total, overflowAgain) = wholeNanoseconds.addingReportingOverflow(fractionNanoseconds)
        guard !overflow, !overflowAgain else {
            throw InvalidValue("duration \"\(text)\" is too large")
        }
        self = .nanoseconds(total)
    }

    /// Splits `12.5` into `("12", "5")`; nil unless it is digits with at most one inner dot.
    private static func splitDecimal(_ number: Substring) -> (Substring, Substring)? {
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return (parts[0], parts.count == 2 ? parts[1] : "")
    }
}

extension Duration {
    /// The duration as it would be written in the configuration (`500ms`, `30s`, `5m`, `1.5s`), for messages
    /// that quote a value the reader inherited rather than read.
    var configurationText: String {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        let exactMilliseconds = attoseconds % 1_000_000_000_000_000 == 0
        guard exactMilliseconds else { return "\(Double(seconds) + Double(attoseconds) / 1e18)s" }
        if milliseconds % 3_600_000 == 0, milliseconds != 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0, milliseconds != 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
