import Testing
@testable import GatewayConfiguration

/// `urls:`, `balancing:`, `healthCheck:`, `outlierDetection:`, `limits:` and the retry budget.
@Suite struct EndpointsAndResilienceParsingTests {
    static let example = """
        services:
          habits:
            urls: ["${HABITS_URL:-http://kilo-habits:9000}", "http://kilo-habits-2:9000"]
            balancing: roundRobin
            healthCheck: { path: /health, interval: 5s, timeout: 2s, healthyThreshold: 2, unhealthyThreshold: 3 }
            outlierDetection: { consecutiveFailures: 5, baseEjectionTime: 30s, maxEjectionTime: 5m, maxEjectionPercent: 50 }
            limits: { maxConcurrentRequests: 1024, maxPendingRequests: 1024 }
            retries: { attempts: 3, backoff: 500ms, replayBuffer: 64KiB, budget: 20%, minRetryConcurrency: 3 }
          meds: { url: http://kilo-meds:9000 }
        """

    @Test func exampleParsesToTheExpectedModel() throws {
        let config = try ConfigurationLoader.parse(yaml: Self.example, environment: [:])
        var habits = ServiceSettings()
        habits.balancing = .roundRobin
        habits.healthCheck = ServiceSettings.HealthCheck()
        let expected: [String: ServiceConfig] = [
            "habits": ServiceConfig(
                name: "habits",
                endpoints: [UpstreamURL(host: "kilo-habits", port: 9000), UpstreamURL(host: "kilo-habits-2", port: 9000)],
                settings: habits),
            "meds": ServiceConfig(name: "meds", url: UpstreamURL(host: "kilo-meds", port: 9000)),
        ]
        #expect(config.services == expected)
        #expect(config.services["habits"]?.url == UpstreamURL(host: "kilo-habits", port: 9000))
        #expect(config.services["meds"]?.endpoints == [UpstreamURL(host: "kilo-meds", port: 9000)])
    }

    @Test func environmentReachesEveryListItem() throws {
        let config = try ConfigurationLoader.parse(yaml: Self.example, environment: ["HABITS_URL": "http://10.0.0.7:9100/v1/"])
        #expect(config.services["habits"]?.endpoints == [
            UpstreamURL(host: "10.0.0.7", port: 9100, basePath: "/v1"), UpstreamURL(host: "kilo-habits-2", port: 9000),
        ])
    }

    @Test func blockListOfOneIsFine() throws {
        let config = try ConfigurationLoader.parse(yaml: withService("  a:\n    urls:\n      - http://a:1\n"), environment: [:])
        #expect(config.services["a"]?.endpoints == [UpstreamURL(host: "a", port: 1)])
    }

    @Test func everyNewKeyUnderDefaults() throws {
        let config = try ConfigurationLoader.parse(yaml: """
            defaults:
              balancing: roundRobin
              healthCheck: { path: /ready, interval: 10s, timeout: 1s, healthyThreshold: 1, unhealthyThreshold: 4 }
              outlierDetection: { consecutiveFailures: 0, baseEjectionTime: 1m, maxEjectionTime: 1h, maxEjectionPercent: 100 }
              limits: { maxConcurrentRequests: 10, maxPendingRequests: 1 }
              retries: { budget: 12.5%, minRetryConcurrency: 0 }
            services: { a: { url: http://a } }
            """, environment: [:])
        let expected = ServiceSettings(
            retries: .init(budget: 0.125, minRetryConcurrency: 0),
            balancing: .roundRobin,
            healthCheck: .init(path: "/ready", interval: .seconds(10), timeout: .seconds(1), healthyThreshold: 1, unhealthyThreshold: 4),
            outlierDetection: .init(consecutiveFailures: 0, baseEjectionTime: .seconds(60), maxEjectionTime: .seconds(3600), maxEjectionPercent: 100),
            limits: .init(maxConcurrentRequests: 10, maxPendingRequests: 1))
        #expect(config.defaults == expected)
        #expect(config.services["a"]?.settings == expected)
    }

    @Test func omittedKeysKeepTheModelDefaults() throws {
        let config = try ConfigurationLoader.parse(yaml: withService("  a: { url: http://a }"), environment: [:])
        let settings = try #require(config.services["a"]).settings
        #expect(settings.balancing == .leastRequest)
        #expect(settings.healthCheck == nil)
        #expect(settings.outlierDetection == .init(consecutiveFailures: 5, baseEjectionTime: .seconds(30), maxEjectionTime: .seconds(300), maxEjectionPercent: 50))
        #expect(settings.limits == .init(maxConcurrentRequests: 1024, maxPendingRequests: 1024))
        #expect(settings.retries.budget == 0.2)
        #expect(settings.retries.minRetryConcurrency == 3)
    }

    @Test(arguments: [
        ("20%", 0.2), ("12.5%", 0.125), ("0%", 0.0), ("100%", 1.0), ("0.2", 0.2), ("0", 0.0), ("1", 1.0), ("1.0", 1.0), ("0.05", 0.05),
    ])
    func budgetForms(text: String, expected: Double) throws {
        let config = try ConfigurationLoader.parse(yaml: "defaults: { retries: { budget: \(text) } }\nservices: {}", environment: [:])
        #expect(config.defaults.retries.budget == expected)
    }

    @Test(arguments: [
        ("healthCheck: true", ServiceSettings.HealthCheck?.some(.init())),
        ("healthCheck: TRUE", .some(.init())),
        ("healthCheck: {}", .some(.init())),
        ("healthCheck: false", nil),
        ("healthCheck: ${HEALTH_CHECKS:-false}", nil),
        ("slowThreshold: 1s", nil),
        ("healthCheck: { path: /ready }", .some(.init(path: "/ready"))),
        ("healthCheck: { interval: 30s, timeout: 30s }", .some(.init(interval: .seconds(30), timeout: .seconds(30)))),
    ])
    func healthCheckForms(line: String, expected: ServiceSettings.HealthCheck?) throws {
        let config = try ConfigurationLoader.parse(yaml: withService("  a:\n    url: http://a\n    \(line)"), environment: [:])
        #expect(config.services["a"]?.settings.healthCheck == expected)
    }

    @Test func servicesMergeOverDefaultsFieldByField() throws {
        let config = try ConfigurationLoader.parse(yaml: """
            defaults:
              balancing: roundRobin
              healthCheck: { path: /ready, interval: 10s }
              outlierDetection: { consecutiveFailures: 3 }
              limits: { maxPendingRequests: 8 }
              retries: { budget: 50% }
            services:
              tuned:
                url: http://tuned
                healthCheck: { timeout: 4s }
                outlierDetection: { maxEjectionPercent: 34 }
                limits: { maxConcurrentRequests: 64 }
                retries: { minRetryConcurrency: 1 }
              leastRequest: { url: http://l, balancing: leastRequest }
              enabled: { url: http://e, healthCheck: true }
              off: { url: http://o, healthCheck: false }
              inherited: { url: http://i }
            """, environment: [:])
        let tuned = try #require(config.services["tuned"]).settings
        #expect(tuned.balancing == .roundRobin)
        #expect(tuned.healthCheck == .init(path: "/ready", interval: .seconds(10), timeout: .seconds(4)))
        #expect(tuned.outlierDetection == .init(consecutiveFailures: 3, maxEjectionPercent: 34))
        #expect(tuned.limits == .init(maxConcurrentRequests: 64, maxPendingRequests: 8))
        #expect(tuned.retries == .init(budget: 0.5, minRetryConcurrency: 1))
        #expect(config.services["leastRequest"]?.settings.balancing == .leastRequest)
        let defaultsCheck = ServiceSettings.HealthCheck(path: "/ready", interval: .seconds(10))
        #expect(config.defaults.healthCheck == defaultsCheck)
        #expect(config.services["enabled"]?.settings.healthCheck == defaultsCheck)
        #expect(config.services["off"]?.settings.healthCheck == nil)
        #expect(config.services["inherited"]?.settings == config.defaults)
    }

    @Test func aServiceCanTurnOnChecksTheDefaultsLeaveOff() throws {
        let config = try ConfigurationLoader.parse(yaml: """
            defaults: { healthCheck: false }
            services: { a: { url: http://a, healthCheck: { path: /ready, unhealthyThreshold: 1 } } }
            """, environment: [:])
        #expect(config.defaults.healthCheck == nil)
        #expect(config.services["a"]?.settings.healthCheck == .init(path: "/ready", unhealthyThreshold: 1))
    }

    @Test(arguments: [
        (Duration.milliseconds(500), "500ms"), (.milliseconds(1500), "1500ms"), (.seconds(2), "2s"), (.seconds(90), "90s"),
        (.seconds(300), "5m"), (.seconds(7200), "2h"), (.zero, "0s"), (.microseconds(250), "0.00025s"),
    ])
    func durationsAreQuotedAsWritten(duration: Duration, expected: String) {
        #expect(duration.configurationText == expected)
    }
}

/// Every new mistake is reported with the key and line a person needs to fix it.
@Suite struct EndpointsAndResilienceValidationTests {
    @Test func urlAndURLsTogether() {
        let problem = onlyProblem(in: withService("  a:\n    url: http://a\n    urls: [http://b]"))
        #expect(problem == ConfigurationProblem(key: "services.a.urls", line: 5, message: "set either url (one endpoint) or urls (several), not both"))
    }

    @Test func neitherURLNorURLs() {
        let problem = onlyProblem(in: withService("  a:\n    balancing: roundRobin"))
        #expect(problem == ConfigurationProblem(
            key: "services.a.url", line: 3,
            message: "missing (every service needs url: http://host[:port], or urls: [...] for several endpoints)"))
    }

    @Test func emptyURLs() {
        let problem = onlyProblem(in: withService("  a:\n    urls: []"))
        #expect(problem == ConfigurationProblem(key: "services.a.urls", line: 4, message: "must list at least one url"))
    }

    @Test func urlsMustBeAList() {
        let problem = onlyProblem(in: withService("  a:\n    urls: http://a"))
        #expect(problem == ConfigurationProblem(
            key: "services.a.urls", line: 4, message: "expected a list of urls, got \"http://a\" (use url: for a single endpoint)"))
        let list = onlyProblem(in: withService("  a:\n    url: [http://a, http://b]"))
        #expect(list == ConfigurationProblem(
            key: "services.a.url", line: 4, message: "expected a url, got a list (use urls: for several endpoints)"))
    }

    @Test func duplicateEndpoints() {
        let found = problems(in: withService("""
              a:
                urls:
                  - http://kilo-a:80
                  - http://kilo-b:9000
                  - http://KILO-A/
                  - "${B_URL:-http://kilo-b:9000}"
            """))
        #expect(found == [
            ConfigurationProblem(key: "services.a.urls[2]", line: 7, message: "duplicate endpoint http://KILO-A:80 (same as urls[0])"),
            ConfigurationProblem(key: "services.a.urls[3]", line: 8, message: "duplicate endpoint http://kilo-b:9000 (same as urls[1])"),
        ])
    }

    @Test func invalidURLInTheList() {
        let found = problems(in: withService("""
              a:
                urls:
                  - http://a
                  - ftp://b
                  -
                  - { host: c }
            """))
        #expect(found.map(\.key) == ["services.a.urls[1]", "services.a.urls[2]", "services.a.urls[3]"])
        #expect(found.map(\.line) == [6, 7, 8])
        #expect(found[0].message.contains("unsupported scheme \"ftp\""))
        #expect(found[1].message == "expected a url, got nothing")
        #expect(found[2].message == "expected a url, got a mapping")
        let flow = onlyProblem(in: withService("  a: { urls: [http://a, 'kilo-b:9000'] }"))
        #expect(flow?.key == "services.a.urls[1]")
        #expect(flow?.line == 3)
        #expect(flow?.message == "invalid url \"kilo-b:9000\" (expected http[s]://host[:port][/path])")
    }

    @Test func missingEnvironmentVariableInTheList() {
        let problem = onlyProblem(in: withService("  a: { urls: [http://a, '${A2_URL}'] }"))
        #expect(problem?.key == "services.a.urls[1]")
        #expect(problem?.line == 3)
    }

    @Test func urlsUnderDefaultsIsExplained() {
        let problem = onlyProblem(in: "defaults:\n  urls: [http://a]\nservices: {}")
        #expect(problem == ConfigurationProblem(key: "defaults.urls", line: 2, message: "urls belongs on a service, not under defaults"))
    }

    @Test func unknownBalancing() {
        let problem = onlyProblem(in: withService("  a:\n    url: http://a\n    balancing: random"))
        #expect(problem == ConfigurationProblem(
            key: "services.a.balancing", line: 5, message: "unknown balancing \"random\" (expected one of: roundRobin, leastRequest)"))
        let type = onlyProblem(in: "defaults: { balancing: [roundRobin] }\nservices: {}")
        #expect(type == ConfigurationProblem(
            key: "defaults.balancing", line: 1, message: "expected one of: roundRobin, leastRequest, got a list"))
    }

    @Test func healthCheckPath() {
        let found = problems(in: """
            defaults:
              healthCheck:
                path: health
            services:
              a: { url: http://a, healthCheck: { path: '/health check' } }
            """)
        #expect(found == [
            ConfigurationProblem(key: "defaults.healthCheck.path", line: 3, message: "must start with /, got \"health\""),
            ConfigurationProblem(
                key: "services.a.healthCheck.path", line: 5,
                message: "must not contain spaces or control characters, got \"/health check\""),
        ])
    }

    @Test func healthCheckNumbers() {
        let found = problems(in: """
            defaults:
              healthCheck:
                interval: 0s
                timeout: 0ms
                healthyThreshold: 0
                unhealthyThreshold: -1
            services: {}
            """)
        #expect(found.map(\.key) == [
            "defaults.healthCheck.interval", "defaults.healthCheck.timeout",
            "defaults.healthCheck.healthyThreshold", "defaults.healthCheck.unhealthyThreshold",
        ])
        #expect(found.map(\.line) == [3, 4, 5, 6])
        #expect(found[0].message == "must be greater than 0, got \"0s\"")
        #expect(found[1].message == "must be greater than 0, got \"0ms\"")
        #expect(found[2].message == "must be at least 1, got 0")
        #expect(found[3].message == "must be at least 1, got -1")
    }

    @Test func healthCheckTimeoutMustFitInTheInterval() {
        let written = onlyProblem(in: "defaults:\n  healthCheck: { interval: 5s, timeout: 6s }\nservices: {}")
        #expect(written == ConfigurationProblem(key: "defaults.healthCheck.timeout", line: 2, message: "must not be longer than interval (6s > 5s)"))
        // Against the built-in 2 s timeout, the interval is the value to blame.
        let interval = onlyProblem(in: withService("  a:\n    url: http://a\n    healthCheck:\n      interval: 1s"))
        #expect(interval == ConfigurationProblem(
            key: "services.a.healthCheck.interval", line: 6, message: "must not be shorter than timeout (1s < 2s)"))
        // Against an interval inherited from defaults.
        let inherited = onlyProblem(in: """
            defaults: { healthCheck: { interval: 3s } }
            services:
              a: { url: http://a, healthCheck: { timeout: 3500ms } }
            """)
        #expect(inherited == ConfigurationProblem(
            key: "services.a.healthCheck.timeout", line: 3, message: "must not be longer than interval (3500ms > 3s)"))
        // Equal is fine.
        #expect(problems(in: withService("  a: { url: http://a, healthCheck: { interval: 2s } }")).isEmpty)
    }

    @Test func aBrokenDefaultIsReportedOnceNotOncePerService() {
        let found = problems(in: """
            defaults:
              healthCheck: { interval: 1s }
              outlierDetection: { baseEjectionTime: 10m }
            services:
              a: { url: http://a }
              b: { url: http://b, healthCheck: true, outlierDetection: { consecutiveFailures: 2 } }
            """)
        #expect(found == [
            ConfigurationProblem(key: "defaults.healthCheck.interval", line: 2, message: "must not be shorter than timeout (1s < 2s)"),
            ConfigurationProblem(
                key: "defaults.outlierDetection.baseEjectionTime", line: 3, message: "must not be longer than maxEjectionTime (10m > 5m)"),
        ])
    }

    @Test func healthCheckShape() {
        let found = problems(in: """
            defaults:
              healthCheck: maybe
            services:
              a:
                url: http://a
                healthCheck:
              b: { url: http://b, healthCheck: [/health] }
              c: { url: http://c, healthCheck: { pth: /x } }
            """)
        #expect(found.map(\.key) == ["defaults.healthCheck", "services.a.healthCheck", "services.b.healthCheck", "services.c.healthCheck.pth"])
        #expect(found.map(\.line) == [2, 6, 7, 8])
        #expect(found[0].message == "expected true, false or a mapping, got \"maybe\"")
        #expect(found[1].message == "expected true, false or a mapping, got nothing")
        #expect(found[2].message == "expected true, false or a mapping, got a list")
        #expect(found[3].message == "unknown key \"pth\" (did you mean \"path\"?)")
    }

    @Test func outlierDetectionRanges() {
        let found = problems(in: """
            defaults:
              outlierDetection:
                consecutiveFailures: -1
                baseEjectionTime: 0s
                maxEjectionPercent: 101
            services:
              a: { url: http://a, outlierDetection: { maxEjectionPercent: -1 } }
            """)
        #expect(found.map(\.key) == [
            "defaults.outlierDetection.consecutiveFailures", "defaults.outlierDetection.baseEjectionTime",
            "defaults.outlierDetection.maxEjectionPercent", "services.a.outlierDetection.maxEjectionPercent",
        ])
        #expect(found.map(\.line) == [3, 4, 5, 7])
        #expect(found[0].message == "must be at least 0, got -1")
        #expect(found[1].message == "must be greater than 0, got \"0s\"")
        #expect(found[2].message == "must be between 0 and 100, got 101")
        #expect(found[3].message == "must be between 0 and 100, got -1")
    }

    @Test func maxEjectionTimeMustNotBeShorterThanTheBase() {
        let max = onlyProblem(in: "defaults:\n  outlierDetection: { baseEjectionTime: 1m, maxEjectionTime: 30s }\nservices: {}")
        #expect(max == ConfigurationProblem(
            key: "defaults.outlierDetection.maxEjectionTime", line: 2, message: "must not be shorter than baseEjectionTime (30s < 1m)"))
        let base = onlyProblem(in: withService("  a:\n    url: http://a\n    outlierDetection:\n      baseEjectionTime: 6m"))
        #expect(base == ConfigurationProblem(
            key: "services.a.outlierDetection.baseEjectionTime", line: 6, message: "must not be longer than maxEjectionTime (6m > 5m)"))
        #expect(problems(in: withService("  a: { url: http://a, outlierDetection: { maxEjectionTime: 30s } }")).isEmpty)
    }

    @Test func limitsAndRetryConcurrency() {
        let found = problems(in: """
            defaults:
              limits: { maxConcurrentRequests: 0, maxPendingRequests: 0, maxQueue: 1 }
              retries:
                minRetryConcurrency: -1
            services: {}
            """)
        #expect(found.map(\.key) == [
            "defaults.limits.maxConcurrentRequests", "defaults.limits.maxPendingRequests", "defaults.limits.maxQueue",
            "defaults.retries.minRetryConcurrency",
        ])
        #expect(found.map(\.line) == [2, 2, 2, 4])
        #expect(found[0].message == "must be at least 1, got 0")
        #expect(found[2].message == "unknown key \"maxQueue\" (expected one of: maxConcurrentRequests, maxPendingRequests)")
        #expect(found[3].message == "must be at least 0, got -1")
    }

    @Test(arguments: [
        ("101%", "must be between 0% and 100%, got \"101%\" (use a percentage like 20% or a fraction like 0.2)"),
        ("1.5", "must be between 0% and 100%, got \"1.5\" (use a percentage like 20% or a fraction like 0.2)"),
        ("20", "must be between 0% and 100%, got \"20\" (use a percentage like 20% or a fraction like 0.2)"),
        ("-5%", "invalid share \"-5%\" (use a percentage like 20% or a fraction like 0.2)"),
        ("20 %", "invalid share \"20 %\" (use a percentage like 20% or a fraction like 0.2)"),
        ("'%'", "invalid share \"%\" (use a percentage like 20% or a fraction like 0.2)"),
        ("20%%", "invalid share \"20%%\" (use a percentage like 20% or a fraction like 0.2)"),
        (".5", "invalid share \".5\" (use a percentage like 20% or a fraction like 0.2)"),
        ("1e-1", "invalid share \"1e-1\" (use a percentage like 20% or a fraction like 0.2)"),
        ("nan", "invalid share \"nan\" (use a percentage like 20% or a fraction like 0.2)"),
        ("inf", "invalid share \"inf\" (use a percentage like 20% or a fraction like 0.2)"),
        ("[20%]", "expected a share (use a percentage like 20% or a fraction like 0.2), got a list"),
    ])
    func invalidBudget(text: String, message: String) {
        let problem = onlyProblem(in: withService("  a:\n    url: http://a\n    retries:\n      budget: \(text)"))
        #expect(problem == ConfigurationProblem(key: "services.a.retries.budget", line: 6, message: message))
    }

    @Test func unknownSettingListsTheNewKeys() {
        let problem = onlyProblem(in: withService("  a: { url: http://a, balancng: roundRobin }"))
        #expect(problem?.message == "unknown key \"balancng\" (did you mean \"balancing\"?)")
        let far = onlyProblem(in: "defaults: { circuitBreaker: {} }\nservices: {}")
        #expect(far?.message == """
            unknown key "circuitBreaker" (expected one of: timeouts, pool, retries, slowThreshold, followRedirects, maxRedirects, \
            balancing, healthCheck, outlierDetection, limits, maxBodySize, upstreamTLS)
            """)
    }
}
