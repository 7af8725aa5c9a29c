/// Byte counts written for people: `512`, `64KiB`, `1MiB`, `1GiB`, or decimal `64KB`, `1MB`, `1GB`.
enum ByteSize {
    /// Shown with every refused size so the fix is in the message.
    static let unitsHint = "use 512, 64KiB, 1MiB, 1GiB"

    /// Parses a size into bytes.
    static func parse(_ text: String) throws(InvalidValue) -> Int {
        let numberEnd = text.firstIndex { !($0.isASCII && $0.isNumber) } ?? text.endIndex
        let number = text[..<numberEnd]
        let multiplier: Int
        switch text[numberEnd...] {
        case "", "B": multiplier = 1
        case "KiB": multiplier = 1 << 10
        case "MiB": multiplier = 1 << 20
        case "GiB": multiplier = 1 << 30
        case "KB": multiplier = 1_000
        case "MB": multiplier = 1_000_000
        case "GB": multiplier = 1_000_000_000
        default: throw InvalidValue("invalid size \"\(text)\" (\(unitsHint))")
        }
        guard !number.isEmpty else {
            throw InvalidValue("invalid size \"\(text)\" (\(unitsHint))")
        }
        guard let value = Int(number) else {
            throw InvalidValue("size \"\(text)\" is too large")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else {
            throw InvalidValue("size \"\(text)\" is too large")
        }
        return bytes
    }
}
