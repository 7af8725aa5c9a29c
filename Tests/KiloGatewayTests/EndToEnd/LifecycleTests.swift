import DemoUpstreams
import Logging
import Testing

extension EndToEndTests {
    /// Slow-request warnings, access logs and the graceful drain.
    @Suite struct Lifecycle {
        @Test func slowResponsesAreLoggedAsWarnings() async throws {
            try await withGateway(configure: { $0.slowThreshold = .milliseconds(100) }) { gateway in
                let slow = try await gateway.get("/api/echo/slow?delay=250ms")
                let fast = try await gateway.get("/api/echo/fast")
                #expect(slow.status == 200 && fast.status == 200)
                let warnings = gateway.logs.logged.filter { $0.level == .warning && $0.message == "slow response" }
                #expect(warnings.count == 1)
                #expect(warnings.first?.metadata["service"] == "echo")
                #expect(warnings.first?.metadata["path"] == "/api/echo/slow")
            }
        }

        @Test func everyRequestHasOneAccessLogLine() async throws {
            try await withGateway { gateway in
                let response = try await gateway.get("/api/echo/logged?secret=1")
                let id = try #require(response.header("x-request-id"))
                let lines = gateway.logs.access.filter { $0.contains(id) }
                #expect(lines.count == 1)
                let line = try #require(lines.first)
                for field in [#""method":"GET""#, #""path":"/api/echo/logged""#, #""service":"echo""#, #""status":200"#, #""attempts":1"#] {
                    #expect(line.contains(field), "\(field) in \(line)")
                }
                #expect(!line.contains("secret"), "queries stay out of the log")
            }
        }

        @Test func gracefulDrainLetsAnInFlightRequestFinish() async throws {
            let upstream = try await DemoUpstream.start(group: TestGroups.upstream)
            defer { Task { try? await upstream.stop() } }
            try await withGateway(extraServices: ["slow": .init(host: "127.0.0.1", port: upstream.port)]) { gateway in
                let inFlight = Task { try await gateway.get("/api/slow/slow?delay=700ms") }
                let started = await eventually { await gateway.server.activeRequestCount() == 1 }
                #expect(started)
                let drained = Task { await gateway.server.shutdown(drainTimeout: .seconds(5)) }
                // The listener closes: new connections are refused while the old request runs.
                let refused = await eventually(timeout: .seconds(1)) {
                    (try? await TestClient.get("/health", port: gateway.port, group: TestGroups.client)) == nil
                }
                #expect(refused)
                #expect(await gateway.server.activeRequestCount() == 1, "the in-flight request is still running")
                let response = try await inFlight.value
                #expect(response.status == 200 && response.complete)
                #expect(response.header("connection") == "close")
                await drained.value
            }
        }

        @Test func drainTimeoutCutsRequestsThatRunTooLong() async throws {
            try await withGateway { gateway in
                let inFlight = Task { try await gateway.get("/api/echo/slow?delay=10s") }
                let started = await eventually { await gateway.server.activeRequestCount() == 1 }
                #expect(started)
                let start = ContinuousClock.now
                await gateway.server.shutdown(drainTimeout: .milliseconds(300))
                #expect(ContinuousClock.now - start < .seconds(2))
                let result = await inFlight.result
                if case .success(let response) = result { #expect(!response.complete) }
            }
        }
    }
}
