/// Shares written for people: a percentage `20%`, `12.5%`, or a fraction `0.2`, `1`.
enum Percentage {
    /// Shown with every refused share so the fix is in the message.
    static let hint = "use a percentage like 20% or a fraction like 0.2"

    /// Parses a share between 0% and 100% into a fraction between 0 and 1.
    ///
    /// Only plain decimals are accepted (no sign, exponent, `inf` or `nan`, which `Double.init` would take):
    /// a share is written by a person, and anything else is more likely a mistake than a value.
    static func parseFraction(_ text: String) throws(InvalidValue) -> Double {
        let isPercentage = text.hasSuffix("%")
        let number = isPercentage ? text.dropLast() : Substring(text)
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        let wellFormed = (1...2).contains(parts.count)
            && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
        guard wellFormed, let value = Double(number) else {
            throw InvalidValue("invalid share \"\(text)\" (\(hint))")
        }
        let fraction = isPercentage ? value / 100 : value
        guard fraction <= 1 else {
            throw InvalidValue("must be between 0% and 100%, got \"\(text)\" (\(hint))")
        }
        return fraction
    }
}
