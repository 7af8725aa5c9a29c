import Testing

@testable import DemoUpstreams

@Suite struct RoutingTests {
    @Test func targetSplitsPathAndRawQuery() {
        let target = RequestTarget("/a/b?x=1&y=%2Fz+w&flag")
        #expect(target.path == "/a/b")
        #expect(target.query == "x=1&y=%2Fz+w&flag")
        #expect(target.parameter("x") == "1")
        #expect(target.parameter("y") == "/z w")
        #expect(target.parameter("flag") == "")
        #expect(target.parameter("missing") == nil)
        #expect(RequestTarget("/plain").query == nil)
        #expect(RequestTarget("http://example.com:8080/p?q=1").path == "/p")
        #expect(RequestTarget("/bad%zzescape").path == "/bad%zzescape")
    }

    @Test func durations() {
        #expect(Duration(queryParameter: "100ms") == .milliseconds(100))
        #expect(Duration(queryParameter: "2s") == .seconds(2))
        #expect(Duration(queryParameter: "1.5s") == .milliseconds(1500))
        #expect(Duration(queryParameter: "250") == .milliseconds(250))
        #expect(Duration(queryParameter: "1m") == .seconds(60))
        #expect(Duration(queryParameter: "soon") == nil)
        #expect(Duration(queryParameter: "-1s") == nil)
        #expect(Duration.seconds(3).wholeNanoseconds == 3_000_000_000)
        for _ in 0..<100 {
            let pick = Duration.random(in: .milliseconds(5) ... .milliseconds(7))
            #expect(pick >= .milliseconds(5) && pick <= .milliseconds(7))
        }
    }

    @Test func routes() {
        func route(_ uri: String) -> Route { Route(target: RequestTarget(uri)) }
        #expect(route("/sse?events=3&interval=5ms") == .eventStream(events: 3, interval: .milliseconds(5)))
        #expect(route("/slow?delay=2s") == .slow(delay: .seconds(2)))
        #expect(route("/bytes?size=10&chunked=1") == .bytes(size: 10, chunked: true))
        #expect(route("/bytes?size=10") == .bytes(size: 10, chunked: false))
        #expect(route("/status/418") == .status(code: 418))
        #expect(route("/redirect?to=/x&code=307") == .redirect(path: "/x", code: 307))
        #expect(route("/cookies") == .cookies)
        #expect(route("/reset?size=100&after=500") == .reset(size: 100, after: 100))
        #expect(route("/early?status=401") == .early(status: 401))
        #expect(route("/drop") == .drop)
        #expect(route("/anything/else?q") == .echo)
        #expect(route("/sse/") == .echo)
        if case .invalid = route("/status/abc") {} else { Issue.record("bad status code must be rejected") }
        if case .invalid = route("/bytes?size=-1") {} else { Issue.record("negative size must be rejected") }
        if case .invalid = route("/redirect?code=200") {} else { Issue.record("non-3xx redirect must be rejected") }
    }

    @Test func jsonEscaping() {
        let value = JSONValue.object([
            ("s", .string("quote\" backslash\\ newline\n tab\t bell\u{07} é 🚀")),
            ("n", .null), ("i", .integer(-3)), ("a", .array([.bool(true), .bool(false)])),
        ])
        #expect(
            value.serialized()
                == #"{"s":"quote\" backslash\\ newline\n tab\t bell\u0007 é 🚀","n":null,"i":-3,"a":[true,false]}"#
        )
    }

    @Test func requestLogKeepsTheMostRecent() {
        var log = RequestLog(limit: 3)
        for index in 0..<10 {
            log.append(RecordedRequest(method: "GET", uri: "/\(index)", headers: [], bodyLength: 0, bodySHA256: ""))
        }
        #expect(log.totalCount == 10)
        #expect(log.recent.map(\.uri) == ["/7", "/8", "/9"])
    }

    @Test func bytePatternIsContinuousAcrossSlices() {
        let slice = BytePattern.slice(offset: 65_530, count: 20)
        #expect(Array(slice.readableBytesView) == (65_530..<65_550).map { UInt8($0 % 251) })
    }
}
