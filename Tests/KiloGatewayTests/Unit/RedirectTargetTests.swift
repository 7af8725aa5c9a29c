import NIOHTTP1
import Testing

@testable import KiloGateway

@Suite struct RedirectTargetTests {
    private static let current = UpstreamEndpoint(host: "kilo-meds", port: 9000)

    private func resolve(_ location: String) -> RedirectTarget? {
        RedirectTarget(location: location, relativeTo: Self.current)
    }

    @Test(arguments: [
        // location, host, port, target
        ("http://other:8080/a/b?c=d", "other", 8080, "/a/b?c=d"),
        ("http://other/a", "other", 80, "/a"),
        ("HTTP://Other/a", "Other", 80, "/a"),
        ("http://other", "other", 80, "/"),
        ("http://other:81", "other", 81, "/"),
        ("http://other?x=1", "other", 80, "/?x=1"),
        ("http://other/a#frag", "other", 80, "/a"),
        ("http://other#frag", "other", 80, "/"),
        ("http://other/a?x=1#frag", "other", 80, "/a?x=1"),
        ("http://10.0.0.1:9000/x", "10.0.0.1", 9000, "/x"),
        ("http://[::1]:9000/x", "::1", 9000, "/x"),
        ("http://[fe80::1]/x", "fe80::1", 80, "/x"),
        ("http://[::1]", "::1", 80, "/"),
    ])
    func resolvesAbsoluteHTTPLocations(_ location: String, _ host: String, _ port: Int, _ target: String) throws {
        let resolved = try #require(resolve(location))
        #expect(resolved.endpoint == UpstreamEndpoint(scheme: "http", host: host, port: port))
        #expect(resolved.target == target)
    }

    @Test(arguments: ["/a/b?c=d", "/", "/%2e%2e/x"])
    func pathOnlyLocationsStayOnTheCurrentEndpoint(_ location: String) throws {
        let resolved = try #require(resolve(location))
        #expect(resolved.endpoint == Self.current)
        #expect(resolved.target == location)
    }

    @Test
    func pathOnlyLocationsDropTheFragment() throws {
        let resolved = try #require(resolve("/a?x=1#frag"))
        #expect(resolved.target == "/a?x=1")
    }

    @Test(arguments: [
        "https://other/a",
        "ftp://other/a",
        "//other/a",
        "a/b",
        "../a",
        "?x=1",
        "",
        "http://",
        "http:///a",
        "http://user@other/a",
        "http://other:abc/a",
        "http://other:/a",
        "http://other:0/a",
        "http://other:65536/a",
        "http://[::1/a",
        "http://[::1]:x/a",
    ])
    func refusesFormsThatAreNotFollowed(_ location: String) {
        #expect(resolve(location) == nil)
    }

    @Test(arguments: [(301, true), (302, true), (303, true), (307, true), (308, true), (300, false), (304, false), (305, false), (200, false)])
    func isRedirect(_ code: Int, _ expected: Bool) {
        #expect(RedirectTarget.isRedirect(HTTPResponseStatus(statusCode: code)) == expected)
    }
}
