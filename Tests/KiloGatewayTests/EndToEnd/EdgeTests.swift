import DemoUpstreams
import GatewayConfiguration
import NIOHTTP1
import Testing

extension EndToEndTests {
    /// Limits and HTTP/1.1 hygiene at the client-facing edge (DESIGN §8).
    @Suite struct Edge {
        /// Requests a correct proxy must refuse, as raw bytes: each answered 400 (or closed), never forwarded.
        static let malformed: [(String, String)] = [
            ("Content-Length with Transfer-Encoding",
             "POST /api/echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            ("differing Content-Length", "POST /api/echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
            ("Transfer-Encoding not ending in chunked", "POST /api/echo/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc"),
            ("malformed chunk size", "POST /api/echo/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
            ("obsolete line folding", "GET /api/echo/x HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n  b\r\n\r\n"),
            ("whitespace before colon", "GET /api/echo/x HTTP/1.1\r\nHost: t\r\nX-Space : a\r\n\r\n"),
            ("control character in value", "GET /api/echo/x HTTP/1.1\r\nHost: t\r\nX-Bad: a\u{01}b\r\n\r\n"),
            ("two Host headers", "GET /api/echo/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            ("no Host in HTTP/1.1", "GET /api/echo/x HTTP/1.1\r\nX-A: b\r\n\r\n"),
            ("not HTTP at all", "HELLO THERE\r\n\r\n"),
        ]

        @Test(arguments: malformed.map(\.0))
        func malformedRequestsAreRefusedAndNeverForwarded(name: String) async throws {
            let bytes = try #require(Self.malformed.first { $0.0 == name }?.1)
            try await withGateway { gateway in
                let result = try await gateway.raw(bytes, timeout: .seconds(2))
                #expect(result.text.isEmpty || result.text.hasPrefix("HTTP/1.1 400"), "\(name): \(result.text.prefix(80))")
                #expect(result.closedByServer, "\(name): the connection is closed")
                #expect(gateway.upstream("echo").stats.requestCount == 0, "\(name): no request reached the upstream")
                #expect(try await gateway.get("/api/echo/fine").status == 200)
            }
        }

        @Test func oversizedHeadersGet431() async throws {
            try await withGateway { gateway in
                let big = String(repeating: "a", count: 8_000)
                let headers = (0..<9).map { ("X-Big-\($0)", big) }  // 72 KB, over the 64 KiB default
                let response = try await gateway.get("/api/echo/x", headers: headers)
                #expect(response.status == 431)
                #expect(response.text.contains("request line and headers larger than 65536 bytes"), "\(response.text)")
                #expect(gateway.upstream("echo").stats.requestCount == 0)
                #expect(try await gateway.get("/api/echo/fine").status == 200)
            }
        }

        @Test func bodyOverTheLimitGets413WithNothingSentUpstream() async throws {
            try await withGateway(configure: { $0.maxBodySize = 100_000 }) { gateway in
                let sized = try await gateway.send(
                    TestRequest(method: .POST, uri: "/api/echo/up", body: .generated(total: 1_000_000, chunk: 64 << 10, chunked: false)))
                #expect(sized.status == 413)
                #expect(sized.text.contains("body_too_large"))
                #expect(gateway.upstream("echo").stats.connectionsAccepted == 0)
                let streamed = try await gateway.send(
                    TestRequest(method: .POST, uri: "/api/echo/up", body: .generated(total: 1_000_000, chunk: 16 << 10, chunked: true)))
                #expect(streamed.status == 413)
                #expect(gateway.upstream("echo").stats.requests.filter { $0.uri == "/up" }.isEmpty)
                let small = try await gateway.send(TestRequest(method: .POST, uri: "/api/echo/up", body: .bytes(Array(repeating: 1, count: 50_000))))
                #expect(small.status == 200)
            }
        }

        @Test func slowHeaderClientsAreCutWhileOthersAreServed() async throws {
            try await withGateway(edge: { $0.limits.headerTimeout = .milliseconds(500) }) { gateway in
                // 100 connections that send half a request head and stall.
                let stalled = Task {
                    try await withThrowingTaskGroup(of: Bool.self) { group in
                        for _ in 0..<100 {
                            group.addTask {
                                let result = try await gateway.raw("GET /api/echo/slow HTTP/1.1\r\nHost: t\r\nX-Partial: ", timeout: .seconds(5))
                                return result.closedByServer
                            }
                        }
                        return try await group.reduce(into: [Bool]()) { $0.append($1) }
                    }
                }
                try await Task.sleep(for: .milliseconds(100))
                let start = ContinuousClock.now
                for index in 0..<20 {
                    #expect(try await gateway.get("/api/echo/normal/\(index)").status == 200)
                }
                #expect(ContinuousClock.now - start < .seconds(2), "normal requests stay fast")
                let closed = try await stalled.value
                #expect(closed.count == 100 && closed.allSatisfy { $0 }, "every stalled connection was cut")
            }
        }

        @Test func underscoreHeadersFollowThePolicy() async throws {
            try await withGateway(edge: { $0.headers.underscores = .drop }) { gateway in
                let echo = try EchoReply(try await gateway.get("/api/echo/u", headers: [("X_Under", "1"), ("X-Dash", "2")]))
                #expect(echo.value("x_under") == nil && echo.value("x-dash") == "2")
            }
            try await withGateway(edge: { $0.headers.underscores = .reject }) { gateway in
                let refused = try await gateway.get("/api/echo/u", headers: [("X_Under", "1")])
                #expect(refused.status == 400)
            }
        }

        @Test func forwardedHeadersAreTrustedOnlyFromConfiguredProxies() async throws {
            let spoof = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.example")]
            try await withGateway { gateway in
                let echo = try EchoReply(try await gateway.get("/api/echo/f", headers: spoof))
                #expect(echo.value("x-forwarded-for") == "127.0.0.1")
                #expect(echo.value("x-forwarded-proto") == "http")
                #expect(echo.value("x-forwarded-host") == "gateway.test")
            }
            try await withGateway(edge: { $0.trustedProxies = [CIDR("127.0.0.0/8")!] }) { gateway in
                let echo = try EchoReply(try await gateway.get("/api/echo/f", headers: spoof))
                #expect(echo.value("x-forwarded-for") == "6.6.6.6, 127.0.0.1")
                #expect(echo.value("x-forwarded-proto") == "https")
                #expect(echo.value("x-forwarded-host") == "evil.example")
            }
        }

        @Test func idleKeepAliveConnectionsAreClosedAfterTheTimeout() async throws {
            try await withGateway(edge: { $0.limits.keepAliveTimeout = .milliseconds(300) }) { gateway in
                let start = ContinuousClock.now
                let result = try await gateway.raw("GET /health HTTP/1.1\r\nHost: t\r\n\r\n", timeout: .seconds(5))
                let waited = ContinuousClock.now - start
                #expect(result.text.hasPrefix("HTTP/1.1 200"))
                #expect(result.closedByServer, "the idle keep-alive connection is closed by the gateway")
                #expect(waited >= .milliseconds(250) && waited < .seconds(3), "closed after \(waited)")
            }
        }

        @Test func connectionsBeyondTheLimitAreClosed() async throws {
            try await withGateway(edge: { $0.limits.maxConnections = 4 }) { gateway in
                // Two gateway loops, two connections each: hold eight open, some must be refused.
                let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            let result = try await gateway.raw("GET /api/echo/slow?delay=500ms HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", timeout: .seconds(3))
                            return result.text.hasPrefix("HTTP/1.1 200")
                        }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(results.contains(true))
                #expect(results.contains(false))
                #expect(try await gateway.get("/api/echo/after").status == 200)
            }
        }
    }
}
