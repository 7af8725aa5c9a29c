import Yams

/// Walks composed YAML nodes, converting values and collecting every problem instead of stopping at the first.
struct ConfigurationReader {
    /// One `key: value` pair of a mapping, with the dotted path and line that problems will quote.
    struct Entry {
        var name: String
        var path: String
        var keyLine: Int?
        var value: Node

        /// The value's own line, falling back to the key's (a null value has no useful mark).
        var valueLine: Int? { value.mark?.line ?? keyLine }
    }

    let environment: [String: String]
    private(set) var problems: [ConfigurationProblem] = []

    init(environment: [String: String]) {
        self.environment = environment
    }

    mutating func report(_ path: String, line: Int?, _ message: String) {
        problems.append(ConfigurationProblem(key: path, line: line, message: message))
    }

    /// The entries of a mapping; an empty value (`defaults:` with everything commented out) counts as empty.
    mutating func entries(of node: Node, path: String, line: Int?) -> [Entry]? {
        if Self.isNull(node) { return [] }
        guard case .mapping(let mapping) = node else {
            report(path, line: node.mark?.line ?? line, "expected a mapping, got \(Self.kind(of: node))")
            return nil
        }
        var entries: [Entry] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                report(path, line: key.mark?.line, "keys must be plain names, got \(Self.kind(of: key))")
                continue
            }
            let childPath = path.isEmpty ? scalar.string : "\(path).\(scalar.string)"
            entries.append(Entry(name: scalar.string, path: childPath, keyLine: scalar.mark?.line, value: value))
        }
        return entries
    }

    mutating func unknownKey(_ entry: Entry, known: [String]) {
        let closest = known
            .map { (name: $0, distance: Self.editDistance($0.lowercased(), entry.name.lowercased())) }
            .min { $0.distance < $1.distance }
        let hint: String
        if let closest, closest.distance <= 2 {
            hint = "did you mean \"\(closest.name)\"?"
        } else {
            hint = "expected one of: \(known.joined(separator: ", "))"
        }
        report(entry.path, line: entry.keyLine, "unknown key \"\(entry.name)\" (\(hint))")
    }

    /// The scalar's text after env interpolation, or nil after reporting why there is none.
    mutating func text(_ entry: Entry, expecting expected: String) -> String? {
        guard case .scalar(let scalar) = entry.value, !Self.isNull(entry.value) else {
            report(entry.path, line: entry.valueLine, "expected \(expected), got \(Self.kind(of: entry.value))")
            return nil
        }
        do {
            return try EnvironmentInterpolation.interpolate(scalar.string, environment: environment)
        } catch {
            report(entry.path, line: entry.valueLine, error.message)
            return nil
        }
    }

    /// Converts the entry's text, reporting a conversion failure against its key and line.
    mutating func value<T>(_ entry: Entry, expecting expected: String, _ convert: (String) throws(InvalidValue) -> T) -> T? {
        guard let text = text(entry, expecting: expected) else { return nil }
        do {
            return try convert(text)
        } catch {
            report(entry.path, line: entry.valueLine, error.message)
            return nil
        }
    }

    mutating func string(_ entry: Entry) -> String? {
        text(entry, expecting: "a string")
    }

    mutating func integer(_ entry: Entry, in range: ClosedRange<Int>) -> Int? {
        value(entry, expecting: "a number") { (text) throws(InvalidValue) in
            guard let number = Int(text) else { throw InvalidValue("expected a whole number, got \"\(text)\"") }
            guard range.contains(number) else {
                throw InvalidValue(range.upperBound == .max
                    ? "must be at least \(range.lowerBound), got \(number)"
                    : "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
            }
            return number
        }
    }

    mutating func bool(_ entry: Entry) -> Bool? {
        value(entry, expecting: "true or false") { (text) throws(InvalidValue) in
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: throw InvalidValue("expected true or false, got \"\(text)\"")
            }
        }
    }

    /// A duration; `positive` refuses zero, for timeouts where zero would fail every request.
    mutating func duration(_ entry: Entry, positive: Bool) -> Duration? {
        value(entry, expecting: "a duration (\(Duration.configurationUnitsHint))") { (text) throws(InvalidValue) in
            let duration = try Duration(configuration: text)
            if positive && duration == .zero { throw InvalidValue("must be greater than 0, got \"\(text)\"") }
            return duration
        }
    }

    mutating func byteSize(_ entry: Entry) -> Int? {
        value(entry, expecting: "a size (\(ByteSize.unitsHint))") { (text) throws(InvalidValue) in
            try ByteSize.parse(text)
        }
    }

    /// Plain `~`, `null` or nothing: YAML's null, which only mappings accept (as empty).
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return node.null != nil
    }

    /// How a node is described in "expected X, got Y".
    static func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar): return isNull(node) ? "nothing" : "\"\(scalar.string)\""
        }
    }

    /// Levenshtein distance, for "did you mean" on misspelt keys; keys are short, so O(n·m) is nothing.
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
