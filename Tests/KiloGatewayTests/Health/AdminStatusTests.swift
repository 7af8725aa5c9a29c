import DemoUpstreams
import Foundation
import GatewayConfiguration
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import KiloGateway

@Suite struct AdminStatusTests {
    static func parse(_ body: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8))
        return try #require(object as? [String: Any])
    }

    static func endpoints(_ json: [String: Any], _ service: String) throws -> [[String: Any]] {
        let details = try #require(json["details"] as? [String: Any])
        let entry = try #require(details[service] as? [String: Any])
        return try #require(entry["endpoints"] as? [[String: Any]])
    }

    static func isISO8601(_ value: Any?) -> Bool {
        guard let string = value as? String else { return false }
        return string.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil
    }

    @Test func mixOfHealthyDeadAndHealthCheckedServices() async throws {
        try await HealthTestSupport.withGroup { group in
            let alive = try await DemoUpstream.start(group: group)
            let dead = try await HealthTestSupport.deadURL(group: group)
            let checkedUpstream = try await DemoUpstream.start(group: group)
            let config = GatewayConfig(services: [
                "alive": ServiceConfig(name: "alive", url: HealthTestSupport.url(alive)),
                "dead": ServiceConfig(name: "dead", url: dead),
                "checked": ServiceConfig(
                    name: "checked",
                    endpoints: [HealthTestSupport.url(checkedUpstream), dead],
                    settings: ServiceSettings(healthCheck: .init())),
            ])
            let states = UpstreamStates(config: config)
            let checked = try #require(states.snapshot()["checked"]).state
            // The health checker found the second endpoint down; the first is ejected for a while.
            let checkedAt = NIODeadline.now() - .seconds(3)
            checked.endpoints[1].activeHealthy.store(false, ordering: .relaxed)
            checked.endpoints[1].updateDetails {
                $0.lastCheckAt = checkedAt
                $0.lastCheckOK = false
                $0.lastError = "health check: connection refused"
            }
            checked.endpoints[0].ejectedUntil.store((NIODeadline.now() + .seconds(20)).uptimeNanoseconds, ordering: .relaxed)
            checked.endpoints[0].ejections.store(2, ordering: .relaxed)

            let start = ContinuousClock.now
            let body = try await AdminStatus.collect(states: states, eventLoop: group.next()).get()
            #expect(ContinuousClock.now - start < .seconds(2))
            let json = try Self.parse(body)
            #expect(json["gateway"] as? Bool == true)
            #expect(json["alive"] as? Bool == true)
            #expect(json["dead"] as? Bool == false)
            #expect(json["checked"] as? Bool == false, "one endpoint ejected, the other unhealthy: none usable")
            #expect(json["status"] as? String == "degraded")
            #expect(Self.isISO8601(json["checked_at"]))

            let details = try #require(json["details"] as? [String: [String: Any]])
            #expect(details["alive"]?["source"] as? String == "probe")
            #expect(details["alive"]?["healthy"] as? Bool == true)
            #expect(details["checked"]?["source"] as? String == "healthCheck")
            #expect(details["checked"]?["healthy"] as? Bool == false)

            let deadEndpoint = try #require(try Self.endpoints(json, "dead").first)
            #expect(deadEndpoint["healthy"] as? Bool == false)
            #expect(deadEndpoint["lastError"] as? String == "connection refused")
            #expect(deadEndpoint["url"] as? String == dead.description)
            #expect(Self.isISO8601(deadEndpoint["lastCheck"]))

            let checkedEndpoints = try Self.endpoints(json, "checked")
            #expect(checkedEndpoints.count == 2)
            #expect(checkedEndpoints[0]["healthy"] as? Bool == true)
            #expect(checkedEndpoints[0]["ejected"] as? Bool == true)
            let remaining = try #require(checkedEndpoints[0]["ejectedForSeconds"] as? Int)
            #expect((19...20).contains(remaining))
            #expect(checkedEndpoints[0]["ejections"] as? Int == 2)
            #expect(checkedEndpoints[0]["lastCheck"] is NSNull)
            #expect(checkedEndpoints[0]["lastError"] is NSNull)
            #expect(checkedEndpoints[1]["healthy"] as? Bool == false)
            #expect(checkedEndpoints[1]["ejected"] as? Bool == false)
            #expect(checkedEndpoints[1]["ejectedForSeconds"] as? Int == 0)
            #expect(checkedEndpoints[1]["lastError"] as? String == "health check: connection refused")
            #expect(Self.isISO8601(checkedEndpoints[1]["lastCheck"]))
            #expect(checkedUpstream.stats.requestCount == 0, "health-checked services are not probed")
            #expect(alive.stats.requests.first?.uri == "/health")

            try await alive.stop()
            try await checkedUpstream.stop()
        }
    }

    @Test func everyServiceUpIsOnline() async throws {
        try await HealthTestSupport.withGroup { group in
            let upstream = try await DemoUpstream.start(group: group)
            let states = UpstreamStates(config: GatewayConfig(services: [
                "a": ServiceConfig(name: "a", url: HealthTestSupport.url(upstream)),
                "b": ServiceConfig(name: "b", url: HealthTestSupport.url(upstream), settings: ServiceSettings(healthCheck: .init())),
            ]))
            let json = try Self.parse(try await AdminStatus.collect(states: states, eventLoop: group.next()).get())
            #expect(json["a"] as? Bool == true)
            #expect(json["b"] as? Bool == true)
            #expect(json["status"] as? String == "online")
            try await upstream.stop()
        }
    }

    @Test func hungServiceTakesAtMostTheProbeTimeout() async throws {
        try await HealthTestSupport.withGroup { group in
            let hung = try await DemoUpstream.start(behaviour: Behaviour(hang: true), group: group)
            let up = try await DemoUpstream.start(group: group)
            let states = UpstreamStates(config: GatewayConfig(services: [
                "hung": ServiceConfig(name: "hung", endpoints: [HealthTestSupport.url(hung), HealthTestSupport.url(hung)]),
                "up": ServiceConfig(name: "up", url: HealthTestSupport.url(up)),
            ]))
            let start = ContinuousClock.now
            let body = try await AdminStatus.collect(states: states, eventLoop: group.next(), probeTimeout: .milliseconds(300)).get()
            #expect(ContinuousClock.now - start < .milliseconds(800), "probes run in parallel")
            let json = try Self.parse(body)
            #expect(json["hung"] as? Bool == false)
            #expect(json["up"] as? Bool == true)
            #expect(try Self.endpoints(json, "hung").map { $0["lastError"] as? String } == ["timeout", "timeout"])
            try await hung.stop()
            try await up.stop()
        }
    }

    @Test func onlyHealthCheckedServicesAnswerWithACompletedFuture() throws {
        let states = UpstreamStates(config: GatewayConfig(services: [
            "a": ServiceConfig(name: "a", url: UpstreamURL(host: "192.0.2.1", port: 9), settings: ServiceSettings(healthCheck: .init()))
        ]))
        let loop = EmbeddedEventLoop()
        let future = AdminStatus.collect(states: states, eventLoop: loop)
        var body: String?
        future.assumeIsolated().whenSuccess { body = $0 }  // runs inline only when already completed
        let json = try Self.parse(try #require(body))
        #expect(json["a"] as? Bool == true)
        #expect(json["status"] as? String == "online")
    }

    @Test func noServicesIsOnline() throws {
        let states = UpstreamStates(config: GatewayConfig())
        var body: String?
        AdminStatus.collect(states: states, eventLoop: EmbeddedEventLoop()).assumeIsolated().whenSuccess { body = $0 }
        #expect(body == #"{"gateway":true,"status":"online","checked_at":"# + AdminStatus.quoted(ISO8601UTC.now()) + #","details":{}}"#)
    }

    @Test func isoTimestampsAndEscaping() {
        #expect(ISO8601UTC.format(unixSeconds: 0) == "1970-01-01T00:00:00Z")
        #expect(ISO8601UTC.format(unixSeconds: 1_795_944_662) == "2026-11-29T09:31:02Z")
        #expect(AdminStatus.quoted("a\"b\\c\n") == #""a\"b\\c\n""#)
    }
}
