import DemoUpstreams
import NIOHTTP1
import Testing

extension EndToEndTests {
    /// `/metrics` on the gateway's own pipeline, with counters that match the traffic sent.
    @Suite struct MetricsEndpoint {
        @Test func countersMatchTheTrafficSent() async throws {
            try await withGateway(
                clusters: ["svc": [Behaviour(), Behaviour()]],
                configure: { $0.outlierDetection.consecutiveFailures = 2 }
            ) { gateway in
                try await gateway.upstream("svc/1").stop()
                for index in 0..<30 { _ = try await gateway.get("/api/svc/ok/\(index)") }
                for _ in 0..<5 { _ = try await gateway.send(TestRequest(method: .POST, uri: "/api/svc/status/500", body: .bytes([1]))) }
                for _ in 0..<4 { _ = try await gateway.get("/api/nope/x") }
                _ = try await gateway.send(TestRequest(method: .RAW(value: "PROPFIND"), uri: "/api/svc/pot"))

                let response = try await gateway.get("/metrics")
                #expect(response.status == 200)
                #expect(response.header("content-type")?.hasPrefix("text/plain") == true)
                let samples = try PrometheusTextParser.parse(response.text)
                #expect(samples.value(of: "kilo_gateway_requests_total", labels: ["service": "svc", "method": "GET", "code": "200"]) == 30)
                #expect(samples.value(of: "kilo_gateway_requests_total", labels: ["service": "svc", "method": "POST", "code": "500"]) == 5)
                #expect(samples.value(of: "kilo_gateway_requests_total", labels: ["service": "unknown", "method": "GET", "code": "404"]) == 4)
                #expect(samples.value(of: "kilo_gateway_requests_total", labels: ["service": "svc", "method": "OTHER", "code": "200"]) == 1)
                #expect(samples.value(of: "kilo_gateway_request_duration_seconds_count", labels: ["service": "svc"]) == 36)
                #expect(samples.value(of: "kilo_gateway_upstream_attempts_total", labels: ["service": "svc", "outcome": "upstream_5xx"]) == 5)
                let connectErrors = samples.value(of: "kilo_gateway_upstream_attempts_total", labels: ["service": "svc", "outcome": "connect_error"]) ?? 0
                #expect(connectErrors >= 2, "the stopped endpoint refused connections")
                let retries = samples.value(of: "kilo_gateway_upstream_retries_total", labels: ["service": "svc", "reason": "connect"]) ?? 0
                #expect(retries == connectErrors, "every refused connect was retried on the other endpoint")
                let ejections = samples.sum(of: "kilo_gateway_upstream_ejections_total", matching: ["service": "svc"])
                #expect(ejections >= 1)
                #expect(samples.value(of: "kilo_gateway_in_flight_requests", labels: ["service": "svc"]) == 0)
                // Labels stay bounded: no raw paths anywhere.
                #expect(!response.text.contains("/ok/"))
            }
        }
    }
}
