import DemoUpstreams
import GatewayConfiguration
import NIOHTTP1
import Testing

extension EndToEndTests {
    /// What reaches the upstream, and what comes back, for well-behaved traffic.
    @Suite struct Forwarding {
        @Test(arguments: [HTTPMethod.GET, .POST, .PUT, .PATCH, .DELETE, .OPTIONS, .HEAD, .RAW(value: "PROPFIND")])
        func everyMethodArrivesIntact(method: HTTPMethod) async throws {
            try await withGateway { gateway in
                let body: [UInt8] = method == .GET || method == .HEAD ? [] : Array(0...255) + [0, 13, 10, 0]
                let response = try await gateway.send(
                    TestRequest(method: method, uri: "/api/echo/items/42?x=1", body: body.isEmpty ? .none : .bytes(body)))
                #expect(response.status == 200)
                let recorded = try #require(gateway.upstream("echo").stats.requests.last)
                #expect(recorded.method == method.rawValue)
                #expect(recorded.uri == "/items/42?x=1")
                #expect(recorded.bodyLength == body.count)
                #expect(recorded.bodySHA256 == SHA256.hexDigest(body))
            }
        }

        @Test func queryStringsAndPathsPassByteForByte() async throws {
            try await withGateway { gateway in
                let uris = [
                    "/api/echo/search?q=a%20b&q=c%2Bd&tag=x&tag=y&empty=&flag",
                    "/api/echo/files/%E2%9C%93/name%20with%20spaces.txt?x=%26%3D%3F",
                    "/api/echo/a;b=c/d?%00=%ff",
                ]
                for uri in uris {
                    let response = try await gateway.get(uri)
                    #expect(response.status == 200)
                    let echo = try EchoReply(response)
                    #expect(echo.uri == String(uri.dropFirst("/api/echo".count)))
                }
            }
        }

        @Test func prefixFormsAndAliases() async throws {
            try await withGateway(aliases: ["whoami": "echo"]) { gateway in
                let cases: [(String, String)] = [
                    ("/api/echo/x/y", "/x/y"), ("/echo/x/y", "/x/y"), ("/api/echo", "/"), ("/echo", "/"),
                    ("/api/echo/", "/"), ("/api/whoami/z?k=v", "/z?k=v"), ("/whoami/z", "/z"),
                ]
                for (uri, expected) in cases {
                    let response = try await gateway.get(uri)
                    #expect(response.status == 200, "\(uri)")
                    #expect(try EchoReply(response).uri == expected, "\(uri)")
                }
            }
        }

        @Test func traversalNeverLeavesTheNamedService() async throws {
            try await withGateway(upstreams: ["echo": Behaviour(), "other": Behaviour()]) { gateway in
                // Routing happens on the normalised path, so `..` chooses the service the path really names.
                let viaDots = try await gateway.get("/api/echo/../other/secret")
                #expect(try EchoReply(viaDots).uri == "/secret")
                #expect(gateway.upstream("echo").stats.requestCount == 0)
                let encoded = try await gateway.get("/api/echo/%2e%2e/%2E%2E/other/secret")
                #expect(encoded.status == 200)
                #expect(gateway.upstream("echo").stats.requestCount == 0)
                // An encoded slash is not a separator: the request stays in `echo`, bytes untouched.
                let slash = try await gateway.get("/api/echo/..%2fother/secret")
                #expect(try EchoReply(slash).uri == "/..%2fother/secret")
                let escaping = try await gateway.get("/api/echo/../../../../etc/passwd")
                #expect(escaping.status == 404)
                #expect(escaping.text.contains("unknown service 'etc'"))
            }
        }

        @Test func headersAreForwardedAndHopByHopStripped() async throws {
            try await withGateway { gateway in
                let response = try await gateway.get(
                    "/api/echo/h",
                    headers: [
                        ("X-Custom", "one"), ("X-Custom", "two"), ("Connection", "keep-alive, X-Secret-Hop"),
                        ("X-Secret-Hop", "drop me"), ("Keep-Alive", "timeout=5"), ("Proxy-Authorization", "Basic x"),
                        ("X-Forwarded-For", "6.6.6.6"), ("X-Request-ID", "client-id-123"), ("Authorization", "Bearer t"),
                    ])
                let echo = try EchoReply(response)
                #expect(echo.values("x-custom") == ["one", "two"])
                #expect(echo.value("authorization") == "Bearer t")
                #expect(echo.value("x-secret-hop") == nil)
                #expect(echo.value("keep-alive") == nil)
                #expect(echo.value("proxy-authorization") == nil)
                #expect(echo.value("x-forwarded-for") == "127.0.0.1")
                #expect(echo.value("x-forwarded-proto") == "http")
                #expect(echo.value("x-forwarded-host") == "gateway.test")
                #expect(echo.value("x-request-id") == "client-id-123")
                #expect(response.header("x-request-id") == "client-id-123")
                let generated = try await gateway.get("/api/echo/h")
                let id = try #require(generated.header("x-request-id"))
                #expect(id.count == 32)
                #expect(try EchoReply(generated).value("x-request-id") == id)
            }
        }

        @Test func responseHeadersAndStatusesPassThrough() async throws {
            try await withGateway { gateway in
                let cookies = try await gateway.get("/api/echo/cookies")
                #expect(cookies.head.headers["set-cookie"].count == 3)
                for code in [201, 400, 404, 418, 500, 503] {
                    let response = try await gateway.get("/api/echo/status/\(code)")
                    #expect(response.status == code)
                    #expect(response.header("content-type")?.contains("json") == true)
                }
                let noContent = try await gateway.get("/api/echo/status/204")
                #expect(noContent.status == 204 && noContent.bodyLength == 0 && noContent.complete)
                let notModified = try await gateway.get("/api/echo/status/304")
                #expect(notModified.status == 304 && notModified.bodyLength == 0 && notModified.complete)
                let head = try await gateway.send(TestRequest(method: .HEAD, uri: "/api/echo/bytes?size=5000"))
                #expect(head.status == 200 && head.bodyLength == 0 && head.complete)
                #expect(head.header("content-length") == "5000")
            }
        }

        @Test func keepAliveConnectionCarriesManyRequests() async throws {
            try await withGateway { gateway in
                let requests = (0..<50).map { TestRequest(uri: "/api/echo/seq/\($0)") }
                let responses = try await TestClient.sendAll(requests, port: gateway.port, group: TestGroups.client)
                #expect(responses.count == 50)
                for (index, response) in responses.enumerated() {
                    #expect(try EchoReply(response).uri == "/seq/\(index)")
                }
                // The gateway reused its upstream connections instead of opening one per request.
                #expect(gateway.upstream("echo").stats.connectionsAccepted <= 2)
            }
        }

        @Test func chunkedRequestBodyIsForwardedChunked() async throws {
            try await withGateway { gateway in
                let response = try await gateway.send(
                    TestRequest(method: .POST, uri: "/api/echo/upload", body: .generated(total: 300_000, chunk: 7_000, chunked: true)))
                let echo = try EchoReply(response)
                #expect(echo.bodyLength == 300_000)
                #expect(echo.bodySHA256 == SHA256.hexDigest(TestClient.patternBytes(300_000)))
                #expect(echo.value("transfer-encoding") == "chunked")
            }
        }

        @Test func redirectLocationIsRewrittenToThePublicPath() async throws {
            try await withGateway { gateway in
                let response = try await gateway.get("/api/echo/redirect?to=/login%3Fnext%3D1")
                #expect(response.status == 302)
                #expect(response.header("location") == "/api/echo/login?next=1")
                let prefixless = try await gateway.get("/echo/redirect?to=/x")
                #expect(prefixless.header("location") == "/echo/x")
            }
        }

        @Test func redirectsAreFollowedWhenConfigured() async throws {
            try await withGateway(configure: { $0.followRedirects = true }) { gateway in
                // The client's fields reach the redirect's target too (the followed head is built
                // from the fields the parser left in the request's bytes).
                let response = try await gateway.get("/api/echo/redirect?to=/landed", headers: [("X-Custom", "kept")])
                #expect(response.status == 200)
                let landed = try EchoReply(response)
                #expect(landed.uri == "/landed")
                #expect(landed.value("x-custom") == "kept")
                let post = try await gateway.send(
                    TestRequest(method: .POST, uri: "/api/echo/redirect?to=/after-post&code=303", body: .bytes([1, 2, 3])))
                let echo = try EchoReply(post)
                #expect(echo.method == "GET" && echo.uri == "/after-post" && echo.bodyLength == 0)
            }
        }

        @Test func builtinEndpoints() async throws {
            try await withGateway { gateway in
                for path in ["/health", "/status", "/api/health", "/api/status", "/healthz"] {
                    let response = try await gateway.get(path)
                    #expect(response.status == 200, "\(path)")
                    #expect(response.text == #"{"status":"ok"}"#, "\(path)")
                }
                let ready = try await gateway.get("/readyz")
                #expect(ready.status == 200)
                let post = try await gateway.send(TestRequest(method: .POST, uri: "/health", body: .bytes([1])))
                #expect(post.status == 405)
            }
        }
    }
}
