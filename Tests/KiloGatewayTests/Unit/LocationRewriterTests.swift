import GatewayConfiguration
import Testing

@testable import KiloGateway

@Suite struct LocationRewriterTests {
    private static let meds = LocationRewriter(upstream: UpstreamURL(host: "kilo-meds", port: 9000), publicPrefix: "/api/meds")
    private static let chat = LocationRewriter(
        upstream: UpstreamURL(host: "kilo-chat", port: 80, basePath: "/v1"), publicPrefix: "/chat"
    )

    @Test(arguments: [
        ("http://kilo-meds:9000/login", "/api/meds/login"),
        ("http://kilo-meds:9000/login?next=%2Fa&x=1", "/api/meds/login?next=%2Fa&x=1"),
        ("HTTP://Kilo-Meds:9000/Login", "/api/meds/Login"),
        ("http://kilo-meds:9000", "/api/meds/"),
        ("http://kilo-meds:9000?x=1", "/api/meds/?x=1"),
        ("/login", "/api/meds/login"),
        ("/", "/api/meds/"),
        ("/a?b=c", "/api/meds/a?b=c"),
    ])
    func rewritesUpstreamLocations(_ location: String, _ expected: String) {
        #expect(Self.meds.rewrite(location) == expected)
    }

    @Test(arguments: [
        "https://kilo-meds:9000/login",
        "http://kilo-meds:9001/login",
        "http://kilo-meds:90000/login",
        "http://kilo-meds/login",
        "http://kilo-meds:9000.evil.com/x",
        "http://kilo-meds:9000@evil.com/x",
        "http://other:9000/login",
        "//kilo-meds:9000/login",
        "//evil.com/x",
        "login",
        "../x",
        "?x=1",
        "",
        "mailto:a@b",
    ])
    func leavesOtherLocationsAlone(_ location: String) {
        #expect(Self.meds.rewrite(location) == nil)
    }

    @Test(arguments: [
        ("http://kilo-chat/v1/send", "/chat/send"),
        ("http://kilo-chat:80/v1/send", "/chat/send"),
        ("http://KILO-CHAT/v1/send?x=1", "/chat/send?x=1"),
        ("http://kilo-chat/v1", "/chat/"),
        ("http://kilo-chat/v1?x=1", "/chat/?x=1"),
        ("/v1/send", "/chat/send"),
        ("/v1", "/chat/"),
        ("/v1/", "/chat/"),
    ])
    func stripsTheBasePathAndAcceptsTheDefaultPort(_ location: String, _ expected: String) {
        #expect(Self.chat.rewrite(location) == expected)
    }

    @Test(arguments: [
        "/v2/send",
        "/v1x/send",
        "/send",
        "http://kilo-chat/other",
        "http://kilo-chat",
        "http://kilo-chat:8080/v1/send",
        "http://kilo-chat.evil/v1/send",
    ])
    func leavesPathsOutsideTheBasePathAlone(_ location: String) {
        #expect(Self.chat.rewrite(location) == nil)
    }

    @Test func rewritesIPv6Upstreams() {
        let rewriter = LocationRewriter(upstream: UpstreamURL(host: "::1", port: 9000), publicPrefix: "/api/x")
        #expect(rewriter.rewrite("http://[::1]:9000/a") == "/api/x/a")
        #expect(rewriter.rewrite("http://[::1]:9001/a") == nil)
    }

    @Test
    func rewritesIPv6UpstreamOnDefaultPort() {
        let rewriter = LocationRewriter(upstream: UpstreamURL(host: "::1", port: 80), publicPrefix: "/api/x")
        #expect(rewriter.rewrite("http://[::1]/a") == "/api/x/a")
    }
}
