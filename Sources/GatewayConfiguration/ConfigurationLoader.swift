import Foundation
import Yams

/// Turns a YAML file into a validated ``GatewayConfig``, or into every problem it has.
public enum ConfigurationLoader {
    /// Reads, interpolates and validates the file at `path`; an unreadable file is reported like any other problem.
    public static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> GatewayConfig {
        let yaml: String
        do {
            yaml = try readFile(path)
        } catch {
            throw ConfigurationError(problems: [ConfigurationProblem(key: "", line: nil, message: error.message)], path: path)
        }
        do {
            return try parse(yaml: yaml, environment: environment)
        } catch {
            throw ConfigurationError(problems: error.problems, path: path)
        }
    }

    /// Parses and validates YAML text, resolving `${VAR}` and `${VAR:-default}` from `environment`.
    public static func parse(yaml: String, environment: [String: String]) throws(ConfigurationError) -> GatewayConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(problems: [problem(fromYAMLError: error)])
        }
        // An empty file is refused: a half-written ConfigMap must not reload as "no services".
        guard let root, !ConfigurationReader.isNull(root) else {
            throw ConfigurationError(problems: [ConfigurationProblem(key: "", line: nil, message: "the configuration is empty")])
        }
        var reader = ConfigurationReader(environment: environment)
        let config = reader.readGatewayConfig(root)
        guard reader.problems.isEmpty else {
            // File order reads best; problems without a line concern the whole file and go first.
            let ordered = reader.problems.enumerated().sorted {
                ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset)
            }
            throw ConfigurationError(problems: ordered.map(\.element))
        }
        return config
    }

    private static func readFile(_ path: String) throws(InvalidValue) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InvalidValue("cannot read configuration: no such file")
        }
        guard !isDirectory.boolValue else {
            throw InvalidValue("cannot read configuration: it is a directory")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidValue("cannot read configuration: permission denied or I/O error")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InvalidValue("cannot read configuration: not valid UTF-8")
        }
        return text
    }

    /// Keeps Yams' line but drops its snippet: the description must stay one line per problem.
    private static func problem(fromYAMLError error: any Error) -> ConfigurationProblem {
        guard let yamlError = error as? YamlError else {
            return ConfigurationProblem(key: "", line: nil, message: "invalid YAML: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let context = context.map { " (\($0.text) on line \($0.mark.line))" } ?? ""
            return ConfigurationProblem(key: "", line: mark.line, message: "invalid YAML: \(problem)\(context)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return ConfigurationProblem(key: "", line: context.mark.line, message: "duplicate key \(keys) in one mapping")
        case .reader(let problem, _, _, _):
            return ConfigurationProblem(key: "", line: nil, message: "invalid YAML: \(problem)")
        default:
            return ConfigurationProblem(key: "", line: nil, message: "invalid YAML: \(yamlError)")
        }
    }
}
