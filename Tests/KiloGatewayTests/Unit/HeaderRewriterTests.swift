import NIOHTTP1
import Testing

@testable import KiloGateway

@Suite struct HeaderRewriterTests {
    private static let facts = HeaderRewriter.ClientFacts(address: "10.0.0.7", scheme: "http", requestID: "req-1")

    private func upstream(
        _ headers: [(String, String)],
        method: HTTPMethod = .GET,
        version: HTTPVersion = .http1_1,
        framing: RequestFraming = .none,
        facts: HeaderRewriter.ClientFacts = HeaderRewriterTests.facts
    ) -> HTTPRequestHead {
        let client = HTTPRequestHead(version: version, method: method, uri: "/api/meds/x", headers: HTTPHeaders(headers))
        return HeaderRewriter.upstreamRequestHead(
            from: client, target: "/x?q=1", upstreamAuthority: "kilo-meds:9000", framing: framing, facts: facts
        )
    }

    private func response(
        _ headers: [(String, String)],
        status: HTTPResponseStatus = .ok,
        clientVersion: HTTPVersion = .http1_1,
        location: LocationRewriter? = nil,
        keepAlive: Bool = true
    ) -> HTTPResponseHead {
        HeaderRewriter.clientResponseHead(
            from: HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers)),
            clientVersion: clientVersion, requestID: "req-1", location: location, keepAlive: keepAlive
        )
    }

    // MARK: request

    @Test func setsTargetVersionAndHost() {
        let head = upstream([("Host", "gateway.local:8080")], version: .http1_0)
        #expect(head.uri == "/x?q=1")
        #expect(head.version == .http1_1)
        #expect(head.method == .GET)
        #expect(head.headers["host"] == ["kilo-meds:9000"])
    }

    @Test func replacesForwardingHeaders() {
        let head = upstream([
            ("Host", "gateway.local"), ("X-Forwarded-For", "6.6.6.6"), ("x-forwarded-for", "7.7.7.7"),
            ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil"), ("X-Request-ID", "client-id"),
        ])
        #expect(head.headers["x-forwarded-for"] == ["10.0.0.7"])
        #expect(head.headers["x-forwarded-proto"] == ["http"])
        #expect(head.headers["x-forwarded-host"] == ["gateway.local"])
        #expect(head.headers["x-request-id"] == ["req-1"])
    }

    @Test func dropsForwardingHeadersItCannotVouchFor() {
        let noAddress = HeaderRewriter.ClientFacts(address: nil, scheme: "https", requestID: "r")
        let head = upstream([("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Host", "evil")], facts: noAddress)
        #expect(!head.headers.contains(name: "x-forwarded-for"))
        #expect(!head.headers.contains(name: "x-forwarded-host"))
        #expect(head.headers["x-forwarded-proto"] == ["https"])
        #expect(head.headers["host"] == ["kilo-meds:9000"])
    }

    @Test func stripsHopByHopHeadersFromTheRequest() {
        let head = upstream([
            ("Host", "g"), ("Connection", "keep-alive, X-Secret"), ("Connection", "Upgrade"), ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"), ("Trailer", "X-Sum"), ("Upgrade", "websocket"), ("Proxy-Authorization", "Basic x"),
            ("Proxy-Connection", "keep-alive"), ("X-Secret", "s"), ("Accept", "*/*"), ("Authorization", "Bearer t"),
        ])
        for name in ["connection", "keep-alive", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection", "x-secret"] {
            #expect(!head.headers.contains(name: name), "\(name)")
        }
        #expect(head.headers["accept"] == ["*/*"])
        #expect(head.headers["authorization"] == ["Bearer t"])
    }

    @Test func keepsRepeatedEndToEndHeadersInOrder() {
        let head = upstream([("Accept", "a"), ("X-Multi", "1"), ("X-Multi", "2"), ("Cookie", "a=1"), ("Cookie", "b=2")])
        #expect(head.headers["x-multi"] == ["1", "2"])
        #expect(head.headers["cookie"] == ["a=1", "b=2"])
    }

    @Test(arguments: [HTTPMethod.POST, .PUT, .PATCH])
    func emptyBodyMethodsThatExpectOneGetContentLengthZero(_ method: HTTPMethod) {
        let head = upstream([("Content-Length", "0")], method: method, framing: .none)
        #expect(head.headers["content-length"] == ["0"])
        #expect(!head.headers.contains(name: "transfer-encoding"))
    }

    @Test(arguments: [HTTPMethod.GET, .HEAD, .DELETE, .OPTIONS])
    func bodilessRequestsGetNoFraming(_ method: HTTPMethod) {
        let head = upstream([("Content-Length", "0")], method: method, framing: .none)
        #expect(!head.headers.contains(name: "content-length"))
        #expect(!head.headers.contains(name: "transfer-encoding"))
    }

    @Test func chunkedBodyIsReframedAsChunked() {
        let head = upstream([("Transfer-Encoding", "chunked")], method: .POST, framing: .chunked)
        #expect(head.headers["transfer-encoding"] == ["chunked"])
        #expect(!head.headers.contains(name: "content-length"))
    }

    @Test func contentLengthIsKept() {
        let head = upstream([("Content-Length", "42")], method: .POST, framing: .contentLength(42))
        #expect(head.headers["content-length"] == ["42"])
        #expect(!head.headers.contains(name: "transfer-encoding"))
    }

    /// Request smuggling: `Connection: content-length` must not strip the body's framing.
    @Test
    func connectionCannotRemoveContentLength() {
        let head = upstream([("Content-Length", "5"), ("Connection", "content-length")], method: .POST, framing: .contentLength(5))
        #expect(head.headers["content-length"] == ["5"])
    }

    /// RFC 9110 §8.6: `Content-Length: 5, 5` must not be forwarded as is; send one value.
    @Test
    func duplicateContentLengthsAreCollapsed() {
        let head = upstream([("Content-Length", "5"), ("Content-Length", "5")], method: .POST, framing: .contentLength(5))
        #expect(head.headers["content-length"] == ["5"])
    }


    // MARK: response

    @Test func stripsHopByHopHeadersFromTheResponse() {
        let head = response([
            ("Connection", "keep-alive, X-Internal"), ("Keep-Alive", "timeout=5"), ("X-Internal", "1"),
            ("Upgrade", "h2c"), ("Trailer", "X-Sum"), ("Content-Type", "text/plain"), ("Content-Length", "3"),
        ])
        for name in ["connection", "keep-alive", "x-internal", "upgrade", "trailer"] {
            #expect(!head.headers.contains(name: name), "\(name)")
        }
        #expect(head.headers["content-type"] == ["text/plain"])
        #expect(head.headers["content-length"] == ["3"])
    }

    @Test func keepsEverySetCookieSeparately() {
        let head = response([("Set-Cookie", "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT"), ("Set-Cookie", "b=2"), ("set-cookie", "c=3")])
        #expect(head.headers["set-cookie"] == ["a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2", "c=3"])
    }

    @Test func keepsStatusAndUsesTheClientVersion() {
        let head = response([], status: .imATeapot, clientVersion: .http1_0)
        #expect(head.status == .imATeapot)
        #expect(head.version == .http1_0)
    }

    @Test func addsRequestIDUnlessTheUpstreamSetOne() {
        #expect(response([]).headers["x-request-id"] == ["req-1"])
        #expect(response([("X-Request-ID", "upstream-id")]).headers["x-request-id"] == ["upstream-id"])
    }

    @Test(arguments: [
        // keepAlive, client version, expected connection header
        (true, HTTPVersion.http1_1, [String]()),
        (false, .http1_1, ["close"]),
        (true, .http1_0, ["keep-alive"]),
        (false, .http1_0, ["close"]),
    ])
    func decidesConnectionHeader(_ keepAlive: Bool, _ version: HTTPVersion, _ expected: [String]) {
        let head = response([("Connection", "keep-alive")], clientVersion: version, keepAlive: keepAlive)
        #expect(head.headers["connection"] == expected)
    }

    @Test func chunkedUpstreamDropsContentLength() {
        let head = response([("Transfer-Encoding", "chunked"), ("Content-Length", "10")])
        #expect(!head.headers.contains(name: "content-length"))
        #expect(!head.headers.contains(name: "transfer-encoding"))
    }


    /// RFC 9112 §6.3: with a transfer coding other than chunked last, the body runs to close and
    /// Content-Length must be ignored, so it must not reach the client.
    @Test
    func contentLengthNextToOtherTransferCodingIsDropped() {
        let head = response([("Transfer-Encoding", "gzip"), ("Content-Length", "10")])
        #expect(!head.headers.contains(name: "content-length"))
    }

    @Test func contentLengthWithoutChunkedIsKept() {
        let head = response([("Content-Length", "10")])
        #expect(head.headers["content-length"] == ["10"])
    }

    @Test func rewritesLocationThatPointsAtTheUpstream() {
        let rewriter = LocationRewriter(upstream: .init(host: "kilo-meds", port: 9000), publicPrefix: "/api/meds")
        let head = response([("Location", "http://kilo-meds:9000/login?next=%2F")], status: .found, location: rewriter)
        #expect(head.headers["location"] == ["/api/meds/login?next=%2F"])
        let elsewhere = response([("Location", "https://example.com/x")], status: .found, location: rewriter)
        #expect(elsewhere.headers["location"] == ["https://example.com/x"])
        let untouched = response([("Location", "/x")], status: .found, location: nil)
        #expect(untouched.headers["location"] == ["/x"])
    }

    @Test(arguments: [
        // method, status, may have body
        (HTTPMethod.GET, 200, true),
        (.GET, 204, false),
        (.GET, 304, false),
        (.GET, 100, false),
        (.GET, 101, false),
        (.GET, 199, false),
        (.GET, 205, true),
        (.GET, 404, true),
        (.POST, 500, true),
        (.HEAD, 200, false),
        (.HEAD, 404, false),
    ])
    func responseMayHaveBody(_ method: HTTPMethod, _ code: Int, _ expected: Bool) {
        #expect(HeaderRewriter.responseMayHaveBody(method: method, status: .init(statusCode: code)) == expected)
    }

    @Test func methodsExpectingABody() {
        #expect(HeaderRewriter.methodExpectsBody(.POST))
        #expect(HeaderRewriter.methodExpectsBody(.PUT))
        #expect(HeaderRewriter.methodExpectsBody(.PATCH))
        #expect(!HeaderRewriter.methodExpectsBody(.GET))
        #expect(!HeaderRewriter.methodExpectsBody(.DELETE))
    }
}

@Suite struct HopByHopHeadersTests {
    @Test func removesListedAndConnectionNamedHeadersCaseInsensitively() {
        var headers = HTTPHeaders([
            ("CONNECTION", "X-A ,  x-b"), ("x-a", "1"), ("X-B", "2"), ("X-C", "3"), ("Transfer-Encoding", "chunked"),
            ("PROXY-CONNECTION", "close"),
        ])
        HopByHopHeaders.remove(from: &headers)
        #expect(headers.map(\.name) == ["X-C"])
    }

    @Test func leavesEndToEndHeadersAlone() {
        var headers = HTTPHeaders([("Content-Type", "a"), ("Cache-Control", "no-store"), ("Vary", "Accept")])
        HopByHopHeaders.remove(from: &headers)
        #expect(headers.count == 3)
    }
}
