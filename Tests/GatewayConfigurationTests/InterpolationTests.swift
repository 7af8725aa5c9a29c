import Testing
@testable import GatewayConfiguration

@Suite struct InterpolationTests {
    func interpolate(_ text: String, _ environment: [String: String] = [:]) throws(InvalidValue) -> String {
        try EnvironmentInterpolation.interpolate(text, environment: environment)
    }

    @Test func substitutesSetVariables() throws {
        #expect(try interpolate("${A}", ["A": "x"]) == "x")
        #expect(try interpolate("http://${HOST}:${PORT}/v1", ["HOST": "h", "PORT": "9"]) == "http://h:9/v1")
        #expect(try interpolate("${A:-fallback}", ["A": "set"]) == "set")
        #expect(try interpolate("${A}", ["A": ""]) == "")
    }

    @Test func defaultsApplyWhenUnsetOrEmpty() throws {
        #expect(try interpolate("${A:-http://kilo-financial:9005}") == "http://kilo-financial:9005")
        #expect(try interpolate("${A:-fallback}", ["A": ""]) == "fallback")
        #expect(try interpolate("${A:-}") == "")
    }

    @Test func dollarEscapesAndLoneDollars() throws {
        #expect(try interpolate("$${A}", ["A": "x"]) == "${A}")
        #expect(try interpolate("cost: $5 and $") == "cost: $5 and $")
        #expect(try interpolate("no variables") == "no variables")
    }

    @Test func unsetVariableIsNamed() {
        #expect {
            try interpolate("${FINANCIAL_URL}")
        } throws: { error in
            (error as? InvalidValue)?.message
                == "environment variable FINANCIAL_URL is not set (set it, or give a default: ${FINANCIAL_URL:-value})"
        }
        #expect {
            try interpolate("${A}${B}")
        } throws: { error in
            (error as? InvalidValue)?.message.hasPrefix("environment variables A, B are not set") == true
        }
    }

    @Test(arguments: ["${A", "${}", "${1A}", "${A B}", "${A:default}"])
    func malformedReferencesAreRefused(text: String) {
        #expect(throws: InvalidValue.self) { try interpolate(text, ["A": "x"]) }
    }

    @Test func unsetVariableInAFileNamesKeyAndLine() {
        let problem = onlyProblem(in: "listen: :8080\nservices:\n  financial:\n    url: ${FINANCIAL_URL}\n")
        #expect(problem?.key == "services.financial.url")
        #expect(problem?.line == 4)
        #expect(problem?.message.contains("FINANCIAL_URL is not set") == true)
    }

    @Test func interpolatedValuesAreValidatedAfterSubstitution() {
        let problem = onlyProblem(in: "services:\n  a: { url: \"${A_URL}\" }", environment: ["A_URL": "ftp://a"])
        #expect(problem?.key == "services.a.url")
        #expect(problem?.line == 2)
        #expect(problem?.message.hasPrefix("unsupported scheme \"ftp\"") == true)
    }

    @Test func substitutedTextCannotInjectYAML() {
        let found = problems(in: "services:\n  a: { url: \"http://a/${P}\" }", environment: ["P": "x }\n  b: { url: http://b"])
        #expect(found.map(\.key) == ["services.a.url"])
        #expect(found.first?.message.contains("must not contain spaces") == true)
    }
}
