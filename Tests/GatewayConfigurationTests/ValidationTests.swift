import Testing
@testable import GatewayConfiguration

/// Every class of mistake is reported with the key and line a person needs to fix it.
@Suite struct ValidationTests {
    @Test func invalidDurationNamesKeyAndLine() {
        let problem = onlyProblem(in: withService("""
              ai_brain:
                url: http://ai
                timeouts:
                  response: 5 secs
            """))
        #expect(problem == ConfigurationProblem(
            key: "services.ai_brain.timeouts.response", line: 6,
            message: "invalid duration \"5 secs\" (use 500ms, 10s, 2m, 1h)"))
        #expect(problem?.description == "line 6: services.ai_brain.timeouts.response: invalid duration \"5 secs\" (use 500ms, 10s, 2m, 1h)")
    }

    @Test func bareNumberDurationSaysAUnitIsNeeded() {
        let problem = onlyProblem(in: "drainTimeout: 30\nservices: {}")
        #expect(problem?.key == "drainTimeout")
        #expect(problem?.line == 1)
        #expect(problem?.message.contains("a unit is required (use 500ms, 10s, 2m, 1h)") == true)
    }

    @Test func unknownKeysAnywhere() {
        let found = problems(in: """
            listen: :8080
            listn: :8081
            defaults:
              timeouts: { conect: 1s }
            services:
              a: { url: http://a, colour: blue }
            """)
        #expect(found.map(\.key) == ["listn", "defaults.timeouts.conect", "services.a.colour"])
        #expect(found.map(\.line) == [2, 4, 6])
        #expect(found[0].message == "unknown key \"listn\" (did you mean \"listen\"?)")
        #expect(found[2].message.hasPrefix("unknown key \"colour\" (expected one of: url, urls, timeouts"))
    }

    @Test func missingURL() {
        let problem = onlyProblem(in: withService("  a:\n    timeouts: { response: 1s }\n  b: { url: http://b }"))
        #expect(problem?.key == "services.a.url")
        #expect(problem?.line == 3)
        #expect(problem?.message.hasPrefix("missing") == true)
        #expect(onlyProblem(in: withService("  a:"))?.key == "services.a.url")
    }

    @Test func missingServicesSection() {
        #expect(onlyProblem(in: "listen: :8080")?.key == "services")
        #expect(onlyProblem(in: "")?.message == "the configuration is empty")
    }

    @Test(arguments: [
        ("gopher://a:70", "unsupported scheme \"gopher\""),
        ("ftp://a", "unsupported scheme \"ftp\""),
        ("kilo-a:9000", "expected http[s]://host[:port][/path]"),
        ("http://a/x?debug=1", "must not have a query or fragment"),
        ("http://a/#top", "must not have a query or fragment"),
        ("http://user:pw@a", "must not contain user info"),
        ("http://:9000", "invalid host \"\""),
        ("http://a:0", "invalid port \"0\""),
        ("http://a:99999", "invalid port \"99999\""),
        ("http://a:", "invalid port \"\""),
        ("http://::1:9000", "needs brackets"),
        ("http://[::1", "invalid url"),
        ("http://", "has no host"),
    ])
    func invalidURLs(url: String, expected: String) {
        let problem = onlyProblem(in: withService("  a: { url: '\(url)' }"))
        #expect(problem?.key == "services.a.url")
        #expect(problem?.line == 3)
        #expect(problem?.message.contains(expected) == true, "\(problem?.message ?? "no problem")")
    }

    @Test func urlBasePathAndDefaultPort() throws {
        let config = try ConfigurationLoader.parse(yaml: withService("  a: { url: 'HTTP://Api.local/v2//' }"), environment: [:])
        #expect(config.services["a"]?.url == UpstreamURL(host: "Api.local", port: 80, basePath: "/v2"))
    }

    @Test(arguments: ["admin", "socket.io", "health", "status", "healthz", "readyz", "metrics", "Admin"])
    func reservedNames(name: String) {
        let service = onlyProblem(in: withService("  '\(name)': { url: http://a }"))
        #expect(service?.key == "services.\(name)")
        #expect(service?.line == 3)
        #expect(service?.message.contains("is reserved") == true)
        let alias = onlyProblem(in: withService("  a: { url: http://a }\naliases:\n  '\(name)': a"))
        #expect(alias?.key == "aliases.\(name)")
        #expect(alias?.line == 5)
        #expect(alias?.message.contains("is reserved") == true)
    }

    @Test func invalidNames() {
        let found = problems(in: withService("  'my service': { url: http://a }\naliases: { 'x/y': 'my service' }"))
        #expect(found.map(\.key) == ["services.my service", "aliases.x/y"])
        #expect(found.allSatisfy { $0.message.contains("use letters, digits, _ . -") })
    }

    @Test func aliasProblems() {
        let found = problems(in: withService("""
              a: { url: http://a }
              b: { url: http://b }
            aliases:
              ghost: nowhere
              a: b
              twice: ghost
            """))
        #expect(found.map(\.key) == ["aliases.ghost", "aliases.a", "aliases.twice"])
        #expect(found.map(\.line) == [6, 7, 8])
        #expect(found[0].message == "alias target \"nowhere\" is not a service (services: a, b)")
        #expect(found[1].message.contains("is also a service name"))
        #expect(found[2].message.contains("is an alias"))
    }

    @Test func aliasToAnInvalidServiceIsNotReportedTwice() {
        let found = problems(in: withService("  a: { url: ftp://a }\naliases: { x: a }"))
        #expect(found.map(\.key) == ["services.a.url"])
    }

    @Test func numericRanges() {
        let found = problems(in: """
            workers: 0
            listen: :70000
            defaults:
              retries: { attempts: 0 }
              pool: { maxConnections: 0, maxQueue: -1 }
              maxRedirects: 21
            services: {}
            """)
        #expect(found.map(\.key) == ["workers", "listen", "defaults.retries.attempts", "defaults.pool.maxConnections", "defaults.pool.maxQueue", "defaults.maxRedirects"])
        #expect(found.map(\.line) == [1, 2, 4, 5, 5, 6])
        #expect(found[0].message == "must be at least 1, got 0")
        #expect(found[5].message == "must be between 0 and 20, got 21")
    }

    @Test func zeroTimeoutsAreRefusedButZeroBackoffIsNot() {
        let found = problems(in: """
            defaults:
              timeouts: { connect: 0s, response: 0ms, idle: 0h }
              pool: { idleTimeout: 0s, queueTimeout: 0s }
              retries: { backoff: 0s }
              slowThreshold: 0s
            services: {}
            """)
        #expect(found.map(\.key) == ["defaults.timeouts.connect", "defaults.timeouts.response", "defaults.timeouts.idle", "defaults.pool.idleTimeout", "defaults.pool.queueTimeout"])
        #expect(found.allSatisfy { $0.message.hasPrefix("must be greater than 0") })
    }

    @Test func typeErrors() {
        let found = problems(in: """
            accessLog: maybe
            defaults:
              timeouts: 10s
              pool:
                maxQueue: [1, 2]
              maxRedirects: five
            services:
              - a
            aliases: { x: { y: z } }
            """)
        #expect(found.map(\.key) == ["accessLog", "defaults.timeouts", "defaults.pool.maxQueue", "defaults.maxRedirects", "services", "aliases.x"])
        #expect(found.map(\.line) == [1, 3, 5, 6, 8, 9])
        #expect(found[0].message == "expected true or false, got \"maybe\"")
        #expect(found[1].message == "expected a mapping, got \"10s\"")
        #expect(found[2].message == "expected a number, got a list")
        #expect(found[3].message == "expected a whole number, got \"five\"")
        #expect(found[4].message == "expected a mapping, got a list")
        #expect(found[5].message == "expected a string, got a mapping")
    }

    @Test func urlUnderDefaultsIsExplained() {
        let problem = onlyProblem(in: "defaults: { url: http://a }\nservices: {}")
        #expect(problem?.key == "defaults.url")
        #expect(problem?.message == "url belongs on a service, not under defaults")
    }

    @Test func yamlSyntaxErrorsCarryTheirLine() {
        let problem = onlyProblem(in: "listen: :8080\nservices:\n  a: { url: http://a\n  b: 1\n")
        #expect(problem?.line != nil)
        #expect(problem?.message.hasPrefix("invalid YAML: ") == true)
        #expect(problem?.description.contains("\n") == false)
    }

    @Test func duplicateKeys() {
        let problem = onlyProblem(in: "services:\n  a: { url: http://a }\n  a: { url: http://b }\n")
        #expect(problem?.message == "duplicate key \"a\" in one mapping")
        #expect(problem?.line != nil)
    }

    @Test func allProblemsAreReportedInOnePassInFileOrder() {
        let found = problems(in: """
            listen: nowhere
            aliases: { chat: brain }
            services:
              financial: { url: "${FINANCIAL_URL}" }
              ai_brain:
                url: ftp://ai
                timeouts: { response: 5 secs }
                retries: { replayBuffer: 64 KiB }
            defaults:
              followRedirects: yes please
            """)
        #expect(found.map(\.line) == [1, 2, 4, 6, 7, 8, 10])
        #expect(found.map(\.key) == [
            "listen", "aliases.chat", "services.financial.url", "services.ai_brain.url",
            "services.ai_brain.timeouts.response", "services.ai_brain.retries.replayBuffer", "defaults.followRedirects",
        ])
        let error = ConfigurationError(problems: found, path: "gateway.yaml")
        #expect(error.description.split(separator: "\n").count == 7)
        #expect(error.description.hasPrefix("gateway.yaml: line 1: listen: listen address \"nowhere\" has no port"))
    }
}
