import DemoUpstreams
import GatewayConfiguration
import NIOHTTP1
import Testing

extension EndToEndTests {
    /// Upstreams that close idle connections, restart, refuse or hang.
    @Suite struct Resilience {
        /// Like a uvicorn with a 0–20 ms keep-alive: every reuse races the upstream's close.
        static let idleClosing = Behaviour(idleClose: .milliseconds(0)...(.milliseconds(20)))

        @Test func sequentialGetsAgainstIdleClosingUpstreamAllSucceed() async throws {
            try await withGateway(upstreams: ["echo": Self.idleClosing]) { gateway in
                var failures = 0
                for index in 0..<2_000 {
                    let response = try await gateway.get("/api/echo/seq/\(index)")
                    if response.status != 200 || !response.complete { failures += 1 }
                    if index % 200 == 0 { try await Task.sleep(for: .milliseconds(Int.random(in: 0...20))) }
                }
                #expect(failures == 0)
                #expect(gateway.upstream("echo").stats.requestCount >= 2_000)
            }
        }

        @Test func concurrentGetsAgainstIdleClosingUpstreamAllSucceed() async throws {
            try await withGateway(upstreams: ["echo": Self.idleClosing]) { gateway in
                let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                    for worker in 0..<64 {
                        group.addTask {
                            var failed = 0
                            var requests: [TestRequest] = []
                            for index in stride(from: worker, to: 2_000, by: 64) {
                                requests.append(TestRequest(uri: "/api/echo/c/\(index)"))
                            }
                            // Each worker keeps one client connection, as a browser would.
                            let responses = try await TestClient.sendAll(requests, port: gateway.port, group: TestGroups.client)
                            failed += requests.count - responses.count
                            failed += responses.filter { $0.status != 200 || !$0.complete }.count
                            return failed
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(failures == 0)
                if failures > 0 {
                    let errors = gateway.logs.access.filter { !$0.contains(#""status":200"#) }.prefix(5)
                    print(errors.joined(separator: "\n"))
                }
            }
        }

        @Test func smallPostOnAStaleConnectionIsRetriedAndArrivesOnce() async throws {
            try await withGateway(upstreams: ["echo": Behaviour(dropReusedAfterBodyBytes: 0)]) { gateway in
                // One client connection, so both requests use the same event loop and its pooled connection.
                let body = TestClient.patternBytes(10_000)
                let responses = try await TestClient.sendAll(
                    [TestRequest(uri: "/api/echo/warm"), TestRequest(method: .POST, uri: "/api/echo/once", body: .bytes(body))],
                    port: gateway.port, group: TestGroups.client)
                #expect(responses.map(\.status) == [200, 200])
                let arrived = gateway.upstream("echo").stats.requests.filter { $0.uri == "/once" }
                #expect(arrived.count == 1)
                #expect(arrived.first?.bodySHA256 == SHA256.hexDigest(body))
                #expect(gateway.logs.access.last?.contains(#""attempts":2"#) == true)
            }
        }

        @Test func streamedPostIsNotReplayedAfterAStaleConnectionFails() async throws {
            try await withGateway(upstreams: ["echo": Behaviour(dropReusedAfterBodyBytes: 256 << 10)]) { gateway in
                let responses = try await TestClient.sendAll(
                    [
                        TestRequest(uri: "/api/echo/warm"),
                        TestRequest(method: .POST, uri: "/api/echo/big", body: .generated(total: 4 << 20, chunk: 32 << 10, chunked: false)),
                    ],
                    port: gateway.port, group: TestGroups.client)
                #expect(responses.map(\.status) == [200, 502])
                #expect(gateway.upstream("echo").stats.requests.filter { $0.uri == "/big" }.isEmpty)
                #expect(gateway.logs.access.last?.contains(#""attempts":1"#) == true)
            }
        }

        @Test func upstreamRestartedOnTheSamePortIsUsedAgain() async throws {
            try await withGateway { gateway in
                let upstream = gateway.upstream("echo")
                #expect(try await gateway.get("/api/echo/before").status == 200)
                try await upstream.stop()
                let down = try await gateway.get("/api/echo/while-down")
                #expect(down.status == 502)
                #expect(down.text.contains("connect_failed"))
                try await upstream.restart()
                for index in 0..<20 {
                    let response = try await gateway.get("/api/echo/after/\(index)")
                    #expect(response.status == 200, "request \(index) after the restart")
                }
            }
        }

        @Test func pooledConnectionsClosedByARestartAreNotReusedBlindly() async throws {
            try await withGateway(configure: { $0.pool.idleTimeout = .seconds(30) }) { gateway in
                let upstream = gateway.upstream("echo")
                _ = try await TestClient.sendAll(
                    (0..<10).map { TestRequest(uri: "/api/echo/warm/\($0)") }, port: gateway.port, group: TestGroups.client)
                try await upstream.stop()
                try await upstream.restart()
                for index in 0..<10 {
                    #expect(try await gateway.get("/api/echo/again/\(index)").status == 200)
                }
            }
        }

        @Test func connectionRefusedIsA502WithJSONAfterRetries() async throws {
            let closedPort = try await DemoUpstream.start(group: TestGroups.upstream)
            let port = closedPort.port
            try await closedPort.stop()
            try await withGateway(extraServices: ["gone": UpstreamURL(host: "127.0.0.1", port: port)]) { gateway in
                let response = try await gateway.get("/api/gone/x")
                #expect(response.status == 502)
                #expect(response.header("content-type") == "application/json")
                #expect(response.text.contains(#""service":"gone""#))
                #expect(response.text.contains(#""requestId":""#))
                #expect(response.text.contains("connection refused"))
                let access = try #require(gateway.logs.access.last)
                #expect(access.contains(#""attempts":3"#))
            }
        }

        @Test func unresolvableHostIsA502() async throws {
            try await withGateway(extraServices: ["nowhere": UpstreamURL(host: "no-such-host.invalid", port: 80)]) { gateway in
                let response = try await gateway.get("/api/nowhere/x")
                #expect(response.status == 502)
                #expect(response.text.contains(#""service":"nowhere""#))
            }
        }

        @Test func unknownServiceIsA404() async throws {
            try await withGateway { gateway in
                let response = try await gateway.get("/api/nope/x")
                #expect(response.status == 404)
                #expect(response.text.contains(#""error":"unknown service 'nope'""#))
                #expect(response.text.contains(#""service":"nope""#))
            }
        }

        @Test func missingResponseHeadersIsA504() async throws {
            try await withGateway(
                upstreams: ["echo": Behaviour(hang: true)], configure: { $0.timeouts.response = .milliseconds(300) }
            ) { gateway in
                let start = ContinuousClock.now
                let response = try await gateway.get("/api/echo/x")
                #expect(response.status == 504)
                #expect(response.text.contains("response_timeout"))
                #expect(ContinuousClock.now - start < .seconds(3))
                #expect(gateway.upstream("echo").stats.connectionsAccepted == 1, "a timeout is not retried")
            }
        }

        /// One timer serves every request on an upstream connection: armed by an earlier request,
        /// it must neither cut a later one short nor let it run past its own deadline.
        @Test func responseTimeoutCountsForEachRequestOnAReusedConnection() async throws {
            try await withGateway(
                upstreams: ["echo": Behaviour()], configure: { $0.timeouts.response = .milliseconds(400) }
            ) { gateway in
                // One client connection, so one event loop and one upstream connection for all three.
                let start = ContinuousClock.now
                let responses = try await TestClient.sendAll(
                    [
                        TestRequest(uri: "/api/echo/slow?delay=250ms"),
                        // The first request's deadline passes while this one waits: it is not this one's.
                        TestRequest(uri: "/api/echo/slow?delay=300ms"),
                        TestRequest(uri: "/api/echo/slow?delay=3s"),
                    ], port: gateway.port, group: TestGroups.client)
                let elapsed = ContinuousClock.now - start
                #expect(responses.map(\.status) == [200, 200, 504])
                #expect(elapsed < .milliseconds(2500), "the last request timed out \(elapsed) after the first began")
                #expect(gateway.upstream("echo").stats.connectionsAccepted == 1, "the upstream connection was reused")
            }
        }

        @Test func fullPoolAndQueueIsA503() async throws {
            try await withGateway(
                upstreams: ["echo": Behaviour()],
                configure: {
                    $0.pool.maxConnections = 1
                    $0.pool.maxQueue = 1
                    $0.pool.queueTimeout = .milliseconds(300)
                }
            ) { gateway in
                // Gateway loops are 2, so each loop may open one connection; hold several busy.
                let results = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<8 {
                        group.addTask { try await gateway.get("/api/echo/slow?delay=1s").status }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(results.contains(503))
                #expect(results.contains(200))
                #expect(results.allSatisfy { $0 == 200 || $0 == 503 })
            }
        }

        @Test func upstreamAnsweringBeforeReadingTheBodyIsRelayed() async throws {
            try await withGateway { gateway in
                let response = try await gateway.send(
                    TestRequest(method: .POST, uri: "/api/echo/early?status=413", body: .generated(total: 4 << 20, chunk: 64 << 10, chunked: false)))
                #expect(response.status == 413)
                // The gateway keeps serving afterwards.
                #expect(try await gateway.get("/api/echo/after").status == 200)
            }
        }

        @Test func resetMidBodyClosesTheClientConnection() async throws {
            try await withGateway { gateway in
                let response = try await gateway.send(TestRequest(uri: "/api/echo/reset?size=1000000&after=1000"))
                #expect(response.status == 200)
                #expect(!response.complete, "a truncated body must not look complete")
                #expect(response.bodyLength < 1_000_000)
                #expect(try await gateway.get("/api/echo/after").status == 200)
            }
        }
    }
}
