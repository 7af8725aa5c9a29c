import DemoUpstreams
import Foundation
import GatewayConfiguration
import Testing

extension EndToEndTests {
    /// `/admin/status` and active health checks, end to end.
    @Suite struct Status {
        static func status(_ gateway: GatewayHarness, path: String = "/admin/status") async throws -> [String: Any] {
            let response = try await gateway.get(path)
            #expect(response.status == 200)
            return try #require(try JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
        }

        @Test func deadEndpointIsReportedInStatusAndMetrics() async throws {
            try await withGateway(clusters: ["svc": [Behaviour(), Behaviour(), Behaviour()]]) { gateway in
                try await gateway.upstream("svc/2").stop()
                let statuses = try await EndToEndTests.Cluster.load(gateway, path: "/api/svc/r", count: 1_000, concurrency: 16)
                #expect(statuses.filter { $0 != 200 }.isEmpty)
                let status = try await Self.status(gateway, path: "/api/admin/status")
                #expect(status["gateway"] as? Bool == true)
                #expect(status["svc"] as? Bool == true, "two endpoints still serve")
                #expect(status["checked_at"] is String)
                let details = try #require((status["details"] as? [String: Any])?["svc"] as? [String: Any])
                let endpoints = try #require(details["endpoints"] as? [[String: Any]])
                #expect(endpoints.count == 3)
                #expect(endpoints[2]["ejected"] as? Bool == true)
                #expect((endpoints[2]["ejections"] as? Int ?? 0) >= 1)
                #expect((endpoints[2]["lastError"] as? String)?.contains("refused") == true)
                let metrics = try PrometheusTextParser.parse(try await gateway.get("/metrics").text)
                let url = "http://127.0.0.1:\(gateway.upstream("svc/2").port)"
                #expect((metrics.value(of: "kilo_gateway_upstream_ejections_total", labels: ["service": "svc", "endpoint": url]) ?? 0) >= 1)
                #expect(metrics.value(of: "kilo_gateway_requests_total", labels: ["service": "svc", "method": "GET", "code": "200"]) == 1_000)
            }
        }

        @Test func healthChecksTakeAnEndpointOutAndBringItBack() async throws {
            try await withGateway(
                clusters: ["svc": [Behaviour(), Behaviour()]],
                configure: {
                    $0.healthCheck = .init(
                        path: "/health", interval: .milliseconds(50), timeout: .milliseconds(40), healthyThreshold: 2,
                        unhealthyThreshold: 2)
                    $0.outlierDetection.consecutiveFailures = 0
                }
            ) { gateway in
                let flaky = gateway.upstream("svc/1")
                let url = "http://127.0.0.1:\(flaky.port)"
                let endpoint = try #require(gateway.server.upstreamStates.snapshot()["svc"]).state.endpoints[1]
                try await flaky.stop()
                let markedDown = await eventually { !endpoint.isHealthy }
                #expect(markedDown)
                let metrics = try PrometheusTextParser.parse(try await gateway.get("/metrics").text)
                #expect(metrics.value(of: "kilo_gateway_upstream_endpoint_healthy", labels: ["service": "svc", "endpoint": url]) == 0)
                // No request goes to it now: nothing fails, nothing is retried.
                let statuses = try await EndToEndTests.Cluster.load(gateway, path: "/api/svc/r", count: 200, concurrency: 8)
                #expect(statuses.allSatisfy { $0 == 200 })
                let retries = try PrometheusTextParser.parse(try await gateway.get("/metrics").text)
                    .sum(of: "kilo_gateway_upstream_retries_total", matching: ["service": "svc"])
                #expect(retries == 0)
                let status = try await Self.status(gateway)
                #expect(status["status"] as? String == "online", "one healthy endpoint keeps the service online")

                try await flaky.restart()
                let markedUp = await eventually { endpoint.isHealthy }
                #expect(markedUp)
                flaky.resetStats()
                _ = try await EndToEndTests.Cluster.load(gateway, path: "/api/svc/back", count: 100, concurrency: 4)
                #expect(flaky.stats.requests.filter { !$0.uri.hasPrefix("/health") }.count > 20)
            }
        }

        @Test func servicesWithoutHealthChecksAreProbedAndAllDownIsDegraded() async throws {
            try await withGateway(upstreams: ["up": Behaviour(), "down": Behaviour()]) { gateway in
                try await gateway.upstream("down").stop()
                let start = ContinuousClock.now
                let status = try await Self.status(gateway)
                #expect(ContinuousClock.now - start < .seconds(3))
                #expect(status["up"] as? Bool == true)
                #expect(status["down"] as? Bool == false)
                #expect(status["status"] as? String == "degraded")
                #expect(gateway.upstream("up").stats.requests.contains { $0.uri == "/health" })
            }
        }
    }
}
