/// One sample line of a Prometheus text exposition: `name{labels} value`.
struct PrometheusSample: Equatable, Sendable {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// A parsed Prometheus text exposition (format 0.0.4): samples plus `# HELP` / `# TYPE` metadata.
struct PrometheusExposition: Sendable {
    var samples: [PrometheusSample] = []
    /// Help text by family name.
    var help: [String: String] = [:]
    /// Type (`counter`, `gauge`, `histogram`, …) by family name.
    var types: [String: String] = [:]

    /// The value of the sample with exactly these labels.
    func value(of name: String, labels: [String: String] = [:]) -> Double? {
        samples.value(of: name, labels: labels)
    }

    /// The family a sample name belongs to (`x_bucket`, `x_sum`, `x_count` of a histogram `x` → `x`).
    func family(of sampleName: String) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where sampleName.hasSuffix(suffix) {
            let base = String(sampleName.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return sampleName
    }
}

/// A small, strict parser of the Prometheus text format, for tests.
enum PrometheusTextParser {
    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var text: String
        var reason: String
        var description: String { "line \(line): \(reason): \(text)" }
    }

    /// Parses every sample; throws on any line that is not a comment, blank or a valid sample.
    static func parse(_ text: String) throws -> [PrometheusSample] {
        try parseExposition(text).samples
    }

    /// Parses samples and the `# HELP` / `# TYPE` lines.
    static func parseExposition(_ text: String) throws -> PrometheusExposition {
        var result = PrometheusExposition()
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Substring(rawLine)
            func fail(_ reason: String) -> ParseError { ParseError(line: number + 1, text: String(line), reason: reason) }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                guard parts.count >= 2, parts[0] == "#" else { continue }
                if parts[1] == "HELP" {
                    guard parts.count >= 3, isValidMetricName(parts[2]) else { throw fail("bad HELP") }
                    let name = String(parts[2])
                    guard result.help[name] == nil else { throw fail("second HELP for \(name)") }
                    result.help[name] = parts.count == 4 ? unescapeHelp(parts[3]) : ""
                } else if parts[1] == "TYPE" {
                    guard parts.count == 4, isValidMetricName(parts[2]) else { throw fail("bad TYPE") }
                    let name = String(parts[2])
                    let type = String(parts[3])
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(type) else {
                        throw fail("unknown type \(type)")
                    }
                    guard result.types[name] == nil else { throw fail("second TYPE for \(name)") }
                    result.types[name] = type
                }
                continue
            }
            guard let sample = parseSample(line) else { throw fail("malformed sample") }
            result.samples.append(sample)
        }
        return result
    }

    /// `name{a="b",…} value [timestamp]`, or nil.
    private static func parseSample(_ line: Substring) -> PrometheusSample? {
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " { index = line.index(after: index) }
        let name = line[line.startIndex..<index]
        guard isValidMetricName(name), index < line.endIndex else { return nil }
        var labels = [String: String]()
        if line[index] == "{" {
            index = line.index(after: index)
            while true {
                guard index < line.endIndex else { return nil }
                if line[index] == "}" { index = line.index(after: index); break }
                let nameStart = index
                while index < line.endIndex, line[index] != "=" { index = line.index(after: index) }
                let labelName = line[nameStart..<index]
                guard isValidLabelName(labelName), index < line.endIndex else { return nil }
                index = line.index(after: index)
                guard index < line.endIndex, line[index] == "\"" else { return nil }
                index = line.index(after: index)
                var value = ""
                var closed = false
                while index < line.endIndex {
                    let character = line[index]
                    index = line.index(after: index)
                    if character == "\"" { closed = true; break }
                    if character == "\\" {
                        guard index < line.endIndex else { return nil }
                        switch line[index] {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: return nil
                        }
                        index = line.index(after: index)
                    } else {
                        value.append(character)
                    }
                }
                guard closed, labels[String(labelName)] == nil else { return nil }
                labels[String(labelName)] = value
                guard index < line.endIndex else { return nil }
                if line[index] == "," { index = line.index(after: index) } else if line[index] != "}" { return nil }
            }
        }
        guard index < line.endIndex, line[index] == " " else { return nil }
        let rest = line[line.index(after: index)...].split(separator: " ", omittingEmptySubsequences: false)
        guard rest.count == 1 || rest.count == 2, let value = parseValue(rest[0]) else { return nil }
        if rest.count == 2, Int64(rest[1]) == nil { return nil }
        return PrometheusSample(name: String(name), labels: labels, value: value)
    }

    private static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard let first = text.first, first.isNumber || first == "-" || first == "+" || first == "." else {
                return nil
            }
            return Double(text)
        }
    }

    private static func unescapeHelp(_ text: Substring) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(character == "n" ? "\n" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func isValidMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    private static func isValidLabelName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

extension Array where Element == PrometheusSample {
    /// The value of the sample named `name` with exactly `labels`, or nil.
    func value(of name: String, labels: [String: String] = [:]) -> Double? {
        first { $0.name == name && $0.labels == labels }?.value
    }

    /// The sum over samples named `name` whose labels include `matching`.
    func sum(of name: String, matching: [String: String] = [:]) -> Double {
        filter { sample in
            sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value }
        }.reduce(0) { $0 + $1.value }
    }

    /// The samples named `name`.
    func named(_ name: String) -> [PrometheusSample] {
        filter { $0.name == name }
    }
}
