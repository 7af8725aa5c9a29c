/// `${VAR}` and `${VAR:-default}` substitution inside configuration values.
///
/// It runs on each scalar after YAML parsing rather than on the raw text, so a value can never
/// inject YAML structure and every problem keeps the line of the value it came from.
enum EnvironmentInterpolation {
    /// Replaces `${VAR}`, `${VAR:-default}` and `$$` in `text`.
    ///
    /// `:-` uses the default when the variable is unset *or empty*, as shells do, because an
    /// empty `FINANCIAL_URL=` in a manifest almost always means "not configured". A `$` not
    /// followed by `{` or `$` is kept as is.
    static func interpolate(_ text: String, environment: [String: String]) throws(InvalidValue) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var unset: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex, text[next] == "$" || text[next] == "{" else {
                result.append(character)
                index = next
                continue
            }
            if text[next] == "$" {
                result.append("$")
                index = text.index(after: next)
                continue
            }
            let bodyStart = text.index(after: next)
            guard let close = text[bodyStart...].firstIndex(of: "}") else {
                throw InvalidValue("unterminated \"${\" in \"\(text)\" (write ${NAME} or ${NAME:-default}, or $$ for a literal $)")
            }
            let body = text[bodyStart..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = body.firstRange(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            guard isVariableName(name) else {
                throw InvalidValue("invalid environment variable name \"\(name)\" in \"\(text)\"")
            }
            if let value = environment[String(name)], !(value.isEmpty && fallback != nil) {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                unset.append(String(name))
            }
            index = text.index(after: close)
        }
        if let first = unset.first {
            let names = unset.joined(separator: ", ")
            let noun = unset.count == 1 ? "variable \(names) is" : "variables \(names) are"
            throw InvalidValue("environment \(noun) not set (set it, or give a default: ${\(first):-value})")
        }
        return result
    }

    /// POSIX shell variable names: what a Kubernetes manifest or `export` can actually set.
    private static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}
