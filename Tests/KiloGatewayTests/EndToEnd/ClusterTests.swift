import DemoUpstreams
import GatewayConfiguration
import NIOHTTP1
import Testing

extension EndToEndTests {
    /// Services with several endpoints: balancing, ejection, admission and the retry budget.
    @Suite struct Cluster {
        /// Sends `count` GETs, `concurrency` at a time, each worker on its own keep-alive connection.
        static func load(_ gateway: GatewayHarness, path: String, count: Int, concurrency: Int) async throws -> [Int] {
            try await withThrowingTaskGroup(of: [Int].self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        let requests = stride(from: worker, to: count, by: concurrency).map { TestRequest(uri: "\(path)?n=\($0)") }
                        let responses = try await TestClient.sendAll(requests, port: gateway.port, group: TestGroups.client)
                        return responses.map { $0.complete ? $0.status : -1 } + Array(repeating: -2, count: requests.count - responses.count)
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }

        @Test func deadEndpointCausesNoClientErrorsAndIsEjected() async throws {
            try await withGateway(clusters: ["svc": [Behaviour(), Behaviour(), Behaviour()]]) { gateway in
                try await gateway.upstream("svc/1").stop()
                let statuses = try await Self.load(gateway, path: "/api/svc/r", count: 1_000, concurrency: 16)
                #expect(statuses.filter { $0 != 200 } == [])
                let state = try #require(gateway.server.upstreamStates.snapshot()["svc"]).state
                #expect(state.endpoints[1].ejectionCount >= 1)
                #expect(!state.endpoints[0].isEjected(now: .now()) && !state.endpoints[2].isEjected(now: .now()))
                let served = gateway.upstream("svc/0").stats.requestCount + gateway.upstream("svc/2").stats.requestCount
                #expect(served == 1_000)
            }
        }

        @Test func hungEndpointIsEjectedAndLaterRequestsDoNotWaitOnIt() async throws {
            try await withGateway(
                clusters: ["svc": [Behaviour(), Behaviour(hang: true)]],
                configure: {
                    $0.timeouts.response = .milliseconds(200)
                    $0.outlierDetection.consecutiveFailures = 2
                    $0.balancing = .roundRobin
                }
            ) { gateway in
                var timeouts = 0
                for index in 0..<10 {
                    let response = try await gateway.get("/api/svc/warm/\(index)")
                    if response.status == 504 { timeouts += 1 }
                }
                #expect(timeouts == 2, "two timeouts eject the hung endpoint")
                let start = ContinuousClock.now
                for index in 0..<50 {
                    #expect(try await gateway.get("/api/svc/after/\(index)").status == 200)
                }
                #expect(ContinuousClock.now - start < .seconds(5))
                #expect(gateway.upstream("svc/1").stats.connectionsAccepted <= 2)
            }
        }

        @Test func endpointRestartedUnderLoadCausesNoErrorsAndReturns() async throws {
            try await withGateway(
                clusters: ["svc": [Behaviour(), Behaviour()]],
                configure: {
                    $0.outlierDetection.baseEjectionTime = .milliseconds(300)
                    $0.outlierDetection.consecutiveFailures = 3
                    $0.balancing = .roundRobin
                }
            ) { gateway in
                let restarting = gateway.upstream("svc/1")
                async let statuses = Self.load(gateway, path: "/api/svc/steady", count: 3_000, concurrency: 8)
                try await Task.sleep(for: .milliseconds(150))
                try await restarting.stop()
                try await Task.sleep(for: .milliseconds(300))
                try await restarting.restart()
                let results = try await statuses
                #expect(results.filter { $0 != 200 } == [])
                if results.contains(where: { $0 != 200 }) {
                    print(gateway.logs.access.filter { !$0.contains(#""status":200"#) }.joined(separator: "\n"))
                }
                restarting.resetStats()
                try await Task.sleep(for: .milliseconds(400))  // past the ejection
                _ = try await Self.load(gateway, path: "/api/svc/later", count: 100, concurrency: 4)
                #expect(restarting.stats.requestCount > 20, "the restarted endpoint is back in rotation")
            }
        }

        @Test func allEndpointsDownAnswers503AtOnce() async throws {
            try await withGateway(
                clusters: ["svc": [Behaviour(), Behaviour()]],
                configure: {
                    $0.outlierDetection.consecutiveFailures = 1
                    $0.outlierDetection.maxEjectionPercent = 100
                    $0.retries.attempts = 2
                }
            ) { gateway in
                try await gateway.upstream("svc/0").stop()
                try await gateway.upstream("svc/1").stop()
                var first503: TestResponse?
                for _ in 0..<10 {
                    let response = try await gateway.get("/api/svc/x")
                    #expect(response.status == 502 || response.status == 503)
                    if response.status == 503 {
                        first503 = response
                        break
                    }
                }
                let unavailable = try #require(first503)
                #expect(unavailable.header("retry-after") != nil)
                #expect(unavailable.text.contains("no_healthy_endpoint"))
                let start = ContinuousClock.now
                let again = try await gateway.get("/api/svc/y")
                #expect(again.status == 503)
                #expect(ContinuousClock.now - start < .milliseconds(100))
            }
        }

        @Test func retryStormIsCappedByTheBudget() async throws {
            try await withGateway(
                configure: {
                    $0.retries.attempts = 5
                    $0.retries.budget = 0.2
                    $0.retries.minRetryConcurrency = 2
                    $0.outlierDetection.consecutiveFailures = 0
                }
            ) { gateway in
                // `/drop` closes every connection on the request head: a fresh connection failing
                // after the request was sent, retried (GET is idempotent) while the budget allows.
                let statuses = try await Self.load(gateway, path: "/api/echo/drop", count: 200, concurrency: 50)
                #expect(statuses.allSatisfy { $0 == 502 }, "\(Set(statuses))")
                let attempts = gateway.upstream("echo").stats.requestCount
                #expect(attempts >= 200)
                #expect(attempts < 500, "without a budget 200 requests × 5 attempts would reach the upstream 1,000 times; saw \(attempts)")
            }
        }

        @Test func leastRequestSendsFewerRequestsToASlowEndpoint() async throws {
            try await withGateway(
                clusters: ["svc": [Behaviour(), Behaviour(headerDelay: .milliseconds(40)), Behaviour()]],
                configure: { $0.balancing = .leastRequest }
            ) { gateway in
                let statuses = try await Self.load(gateway, path: "/api/svc/r", count: 1_500, concurrency: 32)
                #expect(statuses.allSatisfy { $0 == 200 })
                let counts = (0..<3).map { gateway.upstream("svc/\($0)").stats.requestCount }
                #expect(counts[1] < counts[0] && counts[1] < counts[2], "requests per endpoint: \(counts)")
                #expect(counts[1] * 2 < counts[0], "requests per endpoint: \(counts)")
            }
        }

        @Test func roundRobinSpreadsEvenly() async throws {
            try await withGateway(clusters: ["svc": [Behaviour(), Behaviour(), Behaviour()]], configure: { $0.balancing = .roundRobin }) {
                gateway in
                _ = try await TestClient.sendAll(
                    (0..<300).map { TestRequest(uri: "/api/svc/rr/\($0)") }, port: gateway.port, group: TestGroups.client)
                let counts = (0..<3).map { gateway.upstream("svc/\($0)").stats.requestCount }
                #expect(counts.allSatisfy { $0 == 100 }, "\(counts)")
            }
        }

        @Test func pendingLimitAnswers503AtOnce() async throws {
            try await withGateway(
                configure: {
                    $0.pool.maxConnections = 2  // one per gateway event loop
                    $0.limits.maxPendingRequests = 2
                }
            ) { gateway in
                let start = ContinuousClock.now
                let results = try await withThrowingTaskGroup(of: (Int, Duration).self) { group in
                    for _ in 0..<10 {
                        group.addTask {
                            let response = try await gateway.get("/api/echo/slow?delay=400ms")
                            return (response.status, ContinuousClock.now - start)
                        }
                    }
                    return try await group.reduce(into: [(Int, Duration)]()) { $0.append($1) }
                }
                let rejected = results.filter { $0.0 == 503 }
                #expect(!rejected.isEmpty)
                #expect(rejected.allSatisfy { $0.1 < .milliseconds(300) }, "rejections come at once, not after a wait")
                #expect(results.allSatisfy { $0.0 == 200 || $0.0 == 503 })
                let metrics = try PrometheusTextParser.parse(try await gateway.get("/metrics").text)
                #expect(metrics.value(of: "kilo_gateway_admission_rejections_total", labels: ["service": "echo", "reason": "pending"]) == Double(rejected.count))
            }
        }

        @Test func concurrencyLimitAnswers503AtOnce() async throws {
            try await withGateway(configure: { $0.limits.maxConcurrentRequests = 4 }) { gateway in
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<12 {
                        group.addTask { try await gateway.get("/api/echo/slow?delay=500ms").status }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == 200 }.count == 4)
                #expect(statuses.filter { $0 == 503 }.count == 8)
            }
        }
    }
}
