/// One thing wrong with a configuration file, located by key and line.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the offending key, such as `services.ai_brain.timeouts.response`; empty for the file as a whole.
    public var key: String
    /// 1-based line in the YAML text, when the problem has one.
    public var line: Int?
    /// What is wrong and, where it helps, what would be accepted.
    public var message: String

    /// Creates a problem report.
    public init(key: String, line: Int?, message: String) {
        self.key = key
        self.line = line
        self.message = message
    }

    /// `line 12: services.ai_brain.timeouts.response: invalid duration "5 secs" (use 500ms, 10s, 2m, 1h)`.
    public var description: String {
        var text = ""
        if let line { text += "line \(line): " }
        if !key.isEmpty { text += "\(key): " }
        return text + message
    }
}

/// Every problem found in one configuration, reported together so one edit can fix them all.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The problems, in file order; never empty.
    public var problems: [ConfigurationProblem]
    /// The file the configuration came from, when it came from a file.
    public var path: String?

    /// Creates an error from its problems.
    public init(problems: [ConfigurationProblem], path: String? = nil) {
        self.problems = problems
        self.path = path
    }

    /// One problem per line, each prefixed with the file's path when known (as `nginx -t` does).
    public var description: String {
        let prefix = path.map { "\($0): " } ?? ""
        return problems.map { prefix + $0.description }.joined(separator: "\n")
    }
}

/// Why one scalar value was refused; the reader adds the key and line.
struct InvalidValue: Error {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}
