import DemoUpstreams
import GatewayConfiguration
import NIOCore
import NIOPosix
import Testing

@testable import KiloGateway

@Suite struct HealthProbeTests {
    @Test func twoHundredIsHealthyAndTheRequestIsAsSpecified() async throws {
        try await HealthTestSupport.withGroup { group in
            let upstream = try await DemoUpstream.start(group: group)
            let url = HealthTestSupport.url(upstream)
            let result = try await HealthProbe.check(url, path: "/health", timeout: .seconds(2), on: group.next()).get()
            #expect(result == .healthy(status: 200))
            let request = try #require(upstream.stats.requests.first)
            #expect(request.method == "GET")
            #expect(request.uri == "/health")
            #expect(request.value(forHeader: "host") == url.authority)
            #expect(request.value(forHeader: "connection") == "close")
            #expect(request.value(forHeader: "user-agent") == "kilo-gateway-health")
            #expect(await HealthTestSupport.eventually { upstream.stats.openConnections == 0 }, "the probe closed its connection")
            try await upstream.stop()
        }
    }

    @Test func otherStatusesAreUnhealthy() async throws {
        try await HealthTestSupport.withGroup { group in
            let upstream = try await DemoUpstream.start(group: group)
            let url = HealthTestSupport.url(upstream)
            let unavailable = try await HealthProbe.check(url, path: "/status/503", timeout: .seconds(2), on: group.next()).get()
            #expect(unavailable == .unhealthy(reason: "status 503"))
            let notFound = try await HealthProbe.check(url, path: "/status/404", timeout: .seconds(2), on: group.next()).get()
            #expect(notFound == .unhealthy(reason: "status 404"))
            let noContent = try await HealthProbe.check(url, path: "/status/204", timeout: .seconds(2), on: group.next()).get()
            #expect(noContent == .healthy(status: 204))
            try await upstream.stop()
        }
    }

    @Test func refusedConnectionIsUnhealthy() async throws {
        try await HealthTestSupport.withGroup { group in
            let url = try await HealthTestSupport.deadURL(group: group)
            let result = try await HealthProbe.check(url, path: "/health", timeout: .seconds(2), on: group.next()).get()
            #expect(result == .unhealthy(reason: "connection refused"))
        }
    }

    @Test func hungUpstreamTimesOutOnTimeAndTheConnectionIsClosed() async throws {
        try await HealthTestSupport.withGroup { group in
            let server = try await SilentServer.start(group: group)
            let start = ContinuousClock.now
            let result = try await HealthProbe.check(server.url, path: "/health", timeout: .milliseconds(300), on: group.next()).get()
            let elapsed = ContinuousClock.now - start
            #expect(result == .unhealthy(reason: "timeout"))
            #expect(elapsed >= .milliseconds(280) && elapsed < .seconds(1), "took \(elapsed)")
            #expect(server.accepted == 1)
            #expect(await HealthTestSupport.eventually { server.open == 0 }, "no connection left open")
            try await server.stop()
        }
    }

    @Test func hungDemoUpstreamTimesOut() async throws {
        try await HealthTestSupport.withGroup { group in
            let upstream = try await DemoUpstream.start(behaviour: Behaviour(hang: true), group: group)
            let url = HealthTestSupport.url(upstream)
            let result = try await HealthProbe.check(url, path: "/health", timeout: .milliseconds(200), on: group.next()).get()
            #expect(result == .unhealthy(reason: "timeout"))
            try await upstream.stop()
        }
    }

    @Test func cancelStopsAProbeAtOnce() async throws {
        try await HealthTestSupport.withGroup { group in
            let server = try await SilentServer.start(group: group)
            let probe = HealthProbe.start(server.url, path: "/health", timeout: .seconds(30), on: group.next())
            #expect(await HealthTestSupport.eventually { server.accepted == 1 })
            let start = ContinuousClock.now
            probe.cancel()
            #expect(try await probe.result.get() == .unhealthy(reason: "cancelled"))
            #expect(ContinuousClock.now - start < .seconds(1))
            #expect(await HealthTestSupport.eventually { server.open == 0 })
            try await server.stop()
        }
    }

    @Test func targetJoinsBasePathAndPath() {
        #expect(HealthProbe.target(basePath: "", path: "/health") == "/health")
        #expect(HealthProbe.target(basePath: "/v1", path: "/health") == "/v1/health")
        #expect(HealthProbe.target(basePath: "/v1", path: "ready") == "/v1/ready")
        #expect(HealthProbe.target(basePath: "", path: "") == "/")
    }
}
