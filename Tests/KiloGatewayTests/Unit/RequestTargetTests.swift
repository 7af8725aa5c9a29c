import Testing

@testable import KiloGateway

@Suite struct RequestTargetTests {
    @Test func splitsPathAndQuery() throws {
        let target = try #require(RequestTarget(uri: "/a/b?x=1&y=%2F"))
        #expect(target.path == "/a/b")
        #expect(target.query == "x=1&y=%2F")
    }

    @Test func noQueryIsNilAndEmptyQueryIsEmpty() throws {
        #expect(try #require(RequestTarget(uri: "/a")).query == nil)
        let empty = try #require(RequestTarget(uri: "/a?"))
        #expect(empty.path == "/a")
        #expect(empty.query == "")
    }

    @Test func onlyTheFirstQuestionMarkSplits() throws {
        let target = try #require(RequestTarget(uri: "/a?b?c=/../d"))
        #expect(target.path == "/a")
        #expect(target.query == "b?c=/../d")
    }

    @Test(arguments: ["", "*", "a/b", "http://host/x", "?q=1"])
    func rejectsNonOriginForm(_ uri: String) {
        #expect(RequestTarget(uri: uri) == nil)
    }

    @Test(arguments: [
        ("/", "/"),
        ("/a/b/c", "/a/b/c"),
        ("/a//b/", "/a//b/"),
        ("/a/./b", "/a/b"),
        ("/a/b/.", "/a/b/"),
        ("/a/b/..", "/a/"),
        ("/a/b/../c", "/a/c"),
        ("/a/../../../c", "/c"),
        ("/..", "/"),
        ("/.", "/"),
        ("/../a", "/a"),
        ("/a/%2e/b", "/a/b"),
        ("/a/%2E/b", "/a/b"),
        ("/a/b/%2e%2e/c", "/a/c"),
        ("/a/b/%2E%2E/c", "/a/c"),
        ("/a/b/.%2e/c", "/a/c"),
        ("/a/b/%2E./c", "/a/c"),
        ("/a/.../b", "/a/.../b"),
        ("/a/%2e%2e%2e/b", "/a/%2e%2e%2e/b"),
        ("/a/..b/c", "/a/..b/c"),
        ("/a/b../c", "/a/b../c"),
        ("/a/..%2fb", "/a/..%2fb"),
        ("/a/%2e%2", "/a/%2e%2"),
        ("/a/%2", "/a/%2"),
        ("/a/%2f", "/a/%2f"),
        ("/a/%252e%252e/b", "/a/%252e%252e/b"),
        ("/a//../b", "/a/b"),
    ])
    func removesDotSegments(_ raw: String, _ expected: String) throws {
        let target = try #require(RequestTarget(uri: raw))
        #expect(target.path == Substring(expected))
    }

    @Test func dotSegmentsInTheQueryAreLeftAlone() throws {
        let target = try #require(RequestTarget(uri: "/a/./b?p=../../etc&q=%2e%2e"))
        #expect(target.path == "/a/b")
        #expect(target.query == "p=../../etc&q=%2e%2e")
    }

    @Test func joinedPrependsPrefixAndKeepsRawQuery() throws {
        let target = try #require(RequestTarget(uri: "/x?a=1&a=2&b=%20"))
        #expect(target.joined(pathPrefix: "/v1", path: "/y") == "/v1/y?a=1&a=2&b=%20")
        let noQuery = try #require(RequestTarget(uri: "/x"))
        #expect(noQuery.joined(pathPrefix: "", path: "/y") == "/y")
        let emptyQuery = try #require(RequestTarget(uri: "/x?"))
        #expect(emptyQuery.joined(pathPrefix: "", path: "/y") == "/y?")
    }

    @Test(arguments: [
        ("/a/b?token=secret", "/a/b"),
        ("/a/b", "/a/b"),
        ("/?", "/"),
        ("?x", ""),
    ])
    func pathOnlyDropsTheQuery(_ raw: String, _ expected: String) {
        #expect(RequestTarget.pathOnly(raw) == Substring(expected))
    }

    /// Normalising an already normalised path changes nothing, and no `.`/`..` segment survives.
    @Test func normalisationIsIdempotentAndComplete() throws {
        var generator = SeededRandom(seed: 7)
        let pieces = ["a", "b", ".", "..", "%2e", "%2E%2e", "", "..%2f", "x.y"]
        for _ in 0..<2_000 {
            let count = Int.random(in: 0...6, using: &generator)
            let raw = "/" + (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined(separator: "/")
            let once = try #require(RequestTarget(uri: raw)).path
            let twice = try #require(RequestTarget(uri: String(once))).path
            #expect(once == twice, "\(raw)")
            #expect(once.first == "/")
            let segments = once.split(separator: "/", omittingEmptySubsequences: false)
            #expect(!segments.contains { [".", "..", "%2e", "%2E%2e"].contains($0) }, "\(raw) -> \(once)")
        }
    }
}
