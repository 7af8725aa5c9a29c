import DemoUpstreams
import GatewayConfiguration
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import KiloGateway

@Suite struct HealthCheckerTests {
    static func config(_ urls: [String: UpstreamURL], check: ServiceSettings.HealthCheck?) -> GatewayConfig {
        var services: [String: ServiceConfig] = [:]
        for (name, url) in urls {
            services[name] = ServiceConfig(name: name, url: url, settings: ServiceSettings(healthCheck: check))
        }
        return GatewayConfig(services: services)
    }

    static let fastCheck = ServiceSettings.HealthCheck(
        path: "/health", interval: .milliseconds(50), timeout: .milliseconds(300), healthyThreshold: 2, unhealthyThreshold: 3)

    /// Runs a checker in the background for the duration of `body`, then cancels it and checks it stopped promptly.
    static func withChecker(
        states: UpstreamStates,
        group: any EventLoopGroup,
        logs: LogCapture = LogCapture(),
        onChange: (@Sendable (EndpointState, Bool) -> Void)? = nil,
        _ body: () async throws -> Void
    ) async throws {
        let checker = HealthChecker(
            states: states, group: group, logger: logs.logger, onChange: onChange, rescanInterval: .milliseconds(50))
        let task = Task { try await checker.run() }
        do {
            try await body()
        } catch {
            task.cancel()
            throw error
        }
        let start = ContinuousClock.now
        task.cancel()
        try await task.value
        #expect(ContinuousClock.now - start < .milliseconds(500), "the checker stops promptly on cancellation")
    }

    @Test func endpointGoesUnhealthyAfterThresholdFailuresAndComesBack() async throws {
        try await HealthTestSupport.withGroup { group in
            let upstream = try await DemoUpstream.start(group: group)
            let states = UpstreamStates(config: Self.config(["svc": HealthTestSupport.url(upstream)], check: Self.fastCheck))
            let endpoint = try #require(states.snapshot()["svc"]).state.endpoints[0]
            let changes = NIOLockedValueBox<[Bool]>([])
            let logs = LogCapture()
            try await Self.withChecker(states: states, group: group, logs: logs, onChange: { _, healthy in
                changes.withLockedValue { $0.append(healthy) }
            }) {
                #expect(await HealthTestSupport.eventually { endpoint.snapshot.lastCheckOK == true })
                #expect(endpoint.isHealthy)

                try await upstream.stop()
                #expect(await HealthTestSupport.eventually { !endpoint.isHealthy })
                let details = endpoint.snapshot
                #expect(details.consecutiveCheckFailures >= 3)
                #expect(details.lastCheckOK == false)
                #expect(details.lastError == "health check: connection refused")
                #expect(!endpoint.isUsable(now: .now()))
                #expect(changes.withLockedValue { $0 } == [false])

                try await upstream.restart()
                #expect(await HealthTestSupport.eventually { endpoint.isHealthy })
                #expect(endpoint.snapshot.consecutiveCheckSuccesses >= 2)
                #expect(changes.withLockedValue { $0 } == [false, true])
            }
            let logged = logs.logged
            #expect(logged.contains { $0.level == .warning && $0.metadata["service"] == "svc" && $0.metadata["reason"] == "connection refused" })
            #expect(logged.contains { $0.level == .info && $0.message.contains("back in rotation") })
            try await upstream.stop()
        }
    }

    @Test func non2xxAnswersCountAsFailures() async throws {
        try await HealthTestSupport.withGroup { group in
            let upstream = try await DemoUpstream.start(group: group)
            var check = Self.fastCheck
            check.path = "/status/503"
            check.unhealthyThreshold = 2
            let states = UpstreamStates(config: Self.config(["svc": HealthTestSupport.url(upstream)], check: check))
            let endpoint = try #require(states.snapshot()["svc"]).state.endpoints[0]
            try await Self.withChecker(states: states, group: group) {
                #expect(await HealthTestSupport.eventually { !endpoint.isHealthy })
                #expect(endpoint.snapshot.lastError == "health check: status 503")
            }
            try await upstream.stop()
        }
    }

    @Test func servicesWithoutHealthChecksAreNotProbed() async throws {
        try await HealthTestSupport.withGroup { group in
            let checked = try await DemoUpstream.start(group: group)
            let unchecked = try await DemoUpstream.start(group: group)
            var config = Self.config(["checked": HealthTestSupport.url(checked)], check: Self.fastCheck)
            config.services["unchecked"] = ServiceConfig(name: "unchecked", url: HealthTestSupport.url(unchecked))
            let states = UpstreamStates(config: config)
            try await Self.withChecker(states: states, group: group) {
                #expect(await HealthTestSupport.eventually { checked.stats.requestCount >= 3 })
            }
            #expect(unchecked.stats.requestCount == 0)
            try await checked.stop()
            try await unchecked.stop()
        }
    }

    @Test func reloadsArePickedUpAndRemovingChecksRestoresHealth() async throws {
        try await HealthTestSupport.withGroup { group in
            let dead = try await HealthTestSupport.deadURL(group: group)
            let upstream = try await DemoUpstream.start(group: group)
            let states = UpstreamStates(config: Self.config(["svc": dead], check: nil))
            let changes = NIOLockedValueBox<[Bool]>([])
            try await Self.withChecker(states: states, group: group, onChange: { _, healthy in
                changes.withLockedValue { $0.append(healthy) }
            }) {
                let endpoint = try #require(states.snapshot()["svc"]).state.endpoints[0]
                try await Task.sleep(for: .milliseconds(150))
                #expect(endpoint.isHealthy, "no checks configured: nothing happens")
                #expect(endpoint.snapshot.lastCheckAt == nil)

                // A reload adds health checks: the dead endpoint goes out of rotation.
                states.update(Self.config(["svc": dead], check: Self.fastCheck))
                #expect(await HealthTestSupport.eventually { !endpoint.isHealthy })

                // A reload adds a second service with checks: it is checked too.
                var next = Self.config(["svc": dead, "other": HealthTestSupport.url(upstream)], check: Self.fastCheck)
                states.update(next)
                #expect(await HealthTestSupport.eventually { upstream.stats.requestCount >= 2 })

                // A reload removes the checks: nothing could bring the endpoint back, so it is healthy again.
                next.services["svc"]?.settings.healthCheck = nil
                states.update(next)
                #expect(await HealthTestSupport.eventually { endpoint.isHealthy })
                #expect(changes.withLockedValue { $0 } == [false, true])
            }
            try await upstream.stop()
        }
    }

    @Test func stopsPromptlyWhileAProbeHangs() async throws {
        try await HealthTestSupport.withGroup { group in
            let server = try await SilentServer.start(group: group)
            var check = Self.fastCheck
            check.timeout = .seconds(30)
            let states = UpstreamStates(config: Self.config(["svc": server.url], check: check))
            try await Self.withChecker(states: states, group: group) {
                #expect(await HealthTestSupport.eventually { server.accepted == 1 })
            }
            #expect(await HealthTestSupport.eventually { server.open == 0 }, "the cancelled probe closed its connection")
            try await server.stop()
        }
    }
}
