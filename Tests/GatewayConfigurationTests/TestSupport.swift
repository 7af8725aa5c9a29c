@testable import GatewayConfiguration

/// The problems `yaml` is refused with; empty when it loads.
func problems(in yaml: String, environment: [String: String] = [:]) -> [ConfigurationProblem] {
    do {
        _ = try ConfigurationLoader.parse(yaml: yaml, environment: environment)
        return []
    } catch {
        return error.problems
    }
}

/// The single problem `yaml` is refused with, or nil when there is not exactly one.
func onlyProblem(in yaml: String, environment: [String: String] = [:]) -> ConfigurationProblem? {
    let found = problems(in: yaml, environment: environment)
    return found.count == 1 ? found[0] : nil
}

/// A minimal valid file around `body`, which starts on line 3.
func withService(_ body: String) -> String {
    """
    listen: :8080
    services:
    \(body)
    """
}
