import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import KiloGateway

// MARK: - Summaries

/// Printable form of bytes: visible ASCII as it is, everything else escaped.
private func show<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
    var result = ""
    for byte in bytes {
        switch byte {
        case 0x0D: result += "\\r"
        case 0x0A: result += "\\n"
        case 0x09: result += "\\t"
        case 0x5C: result += "\\\\"
        case 0x20...0x7E: result.unicodeScalars.append(Unicode.Scalar(byte))
        default: result += "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }
    }
    return result
}

private func show(_ headers: HTTPHeaders) -> String {
    "[" + headers.map { "\($0.name): \(show($0.value.utf8))" }.joined(separator: ", ") + "]"
}

private func show(_ method: HTTPMethod) -> String {
    if case .RAW(let value) = method { return "RAW(\(value))" }
    return method.rawValue
}

private func show(_ version: HTTPVersion) -> String {
    "\(version.major).\(version.minor)"
}

private func show(_ framing: Result<RequestFraming, RequestFraming.Problem>) -> String {
    switch framing {
    case .success(.none): return "none"
    case .success(.contentLength(let length)): return "length \(length)"
    case .success(.chunked): return "chunked"
    case .failure(let problem): return "refused \(problem)"
    }
}

/// The case name of a parser error (their descriptions are prose).
private func name(_ error: any Error) -> String {
    guard let error = error as? HTTPParserError else { return "\(type(of: error)).\(error)" }
    switch error {
    case .invalidCharactersUsed: return "invalidCharactersUsed"
    case .trailingGarbage: return "trailingGarbage"
    case .invalidEOFState: return "invalidEOFState"
    case .headerOverflow: return "headerOverflow"
    case .closedConnection: return "closedConnection"
    case .invalidVersion: return "invalidVersion"
    case .invalidStatus: return "invalidStatus"
    case .invalidMethod: return "invalidMethod"
    case .invalidURL: return "invalidURL"
    case .lfExpected: return "lfExpected"
    case .invalidHeaderToken: return "invalidHeaderToken"
    case .invalidContentLength: return "invalidContentLength"
    case .unexpectedContentLength: return "unexpectedContentLength"
    case .invalidChunkSize: return "invalidChunkSize"
    case .invalidConstant: return "invalidConstant"
    case .invalidInternalState: return "invalidInternalState"
    case .strictModeAssertion: return "strictModeAssertion"
    case .paused: return "paused"
    case .unknown: return "unknown"
    default: return "\(error)"
    }
}

/// The parts of a message stream as comparable strings, e.g. `head GET /x 1.1 [Host: a] none`
/// (a request head and its framing), `head 200 1.1 [Server: s]`, `body hello`, `end nil`,
/// `end [X: y]`, `error lfExpected`. Adjacent body parts are joined, so how the input was split
/// does not change the summary.
private struct Summary {
    /// Whether heads also show the rest of their facts (persistence, length fields).
    var detailed = false
    private(set) var lines: [String] = []
    private var pendingBody: [UInt8]?

    init(detailed: Bool = false) {
        self.detailed = detailed
    }

    private mutating func flush() {
        if let pendingBody {
            lines.append("body " + show(pendingBody))
            self.pendingBody = nil
        }
    }

    mutating func add(_ part: HTTP1Parser.Part) {
        switch part {
        case .requestHead(let head, let facts):
            requestHead(head, facts: facts)
        case .responseHead(let head, let facts):
            responseHead(head.head, facts: facts)
        case .body(let bytes):
            self.body(bytes)
        case .end(let trailers):
            end(trailers)
        }
    }

    mutating func requestHead(_ head: HTTPRequestHead, facts: RequestHeadFacts) {
        flush()
        let fields = RawHead.fields(of: head, raw: facts.raw)
        var line = "head \(show(head.method)) \(show(head.uri.utf8)) \(show(head.version)) \(show(fields)) \(show(facts.framing))"
        if detailed { line += " keepAlive=\(facts.keepAlive)" }
        lines.append(line)
    }

    mutating func responseHead(_ head: HTTPResponseHead, facts: ResponseHeadFacts) {
        flush()
        var line = "head \(head.status.code) \(show(head.version)) \(show(head.headers))"
        if detailed { line += " keepAlive=\(facts.keepAlive) cl=\(facts.hasContentLength) te=\(facts.hasTransferEncoding)" }
        lines.append(line)
    }

    mutating func body(_ bytes: ByteBuffer) {
        pendingBody = (pendingBody ?? []) + Array(bytes.readableBytesView)
    }

    mutating func end(_ trailers: HTTPHeaders?) {
        flush()
        lines.append("end " + (trailers.map { show($0) } ?? "nil"))
    }

    mutating func note(_ line: String) {
        flush()
        lines.append(line)
    }

    mutating func finish() -> [String] {
        flush()
        return lines
    }
}

// MARK: - Driving the parser

/// Feeds input to an `HTTP1Parser` in pieces exactly as `HTTP1Decoder` does: the unconsumed
/// bytes of one read are kept and the next read is appended to them.
private struct Driver {
    var mode: HTTP1Parser.Mode
    var maxHeadBytes = 8192
    /// Response mode: whether the n-th final response answers a `HEAD` (set before it, as the
    /// upstream connection does when it sends the request).
    var answeringHEAD: [Bool] = []
    /// Signal the end of input after the last piece.
    var eof = false
    var detailed = false

    /// The summary, then `error …` if parsing failed, `stopped` if the parser stopped, and
    /// `rest …` with the bytes left unconsumed (unless it failed).
    func run(_ pieces: [[UInt8]]) -> [String] {
        var parser = HTTP1Parser(mode: mode, maxHeadBytes: maxHeadBytes)
        var heads = answeringHEAD[...]
        parser.answeringHEAD = heads.popFirst() ?? false
        var summary = Summary(detailed: detailed)
        var pending = ByteBuffer()
        do {
            for piece in pieces {
                var buffer = pending
                buffer.writeBytes(piece)
                while let part = try parser.next(&buffer) {
                    summary.add(part)
                    if case .responseHead(let head, _) = part, head.status.code >= 200 || head.status.code == 101 {
                        parser.answeringHEAD = heads.popFirst() ?? false
                    }
                }
                // Kept in a buffer of its own, as the decoder does.
                pending = ByteBuffer()
                pending.writeBuffer(&buffer)
            }
            if eof, let part = try parser.endOfInput(hasLeftover: pending.readableBytes > 0) {
                summary.add(part)
            }
        } catch {
            summary.note("error " + name(error))
            return summary.finish()
        }
        if parser.isStopped { summary.note("stopped") }
        if pending.readableBytes > 0 { summary.note("rest " + show(pending.readableBytesView)) }
        return summary.finish()
    }

    func run(_ input: [UInt8]) -> [String] {
        run([input])
    }

    /// Every way of splitting `input` that the tests try besides whole: at each byte boundary into
    /// two pieces, and into one-byte pieces.
    static func splits(of input: [UInt8]) -> [(String, [[UInt8]])] {
        var result: [(String, [[UInt8]])] = []
        if input.count > 1 {
            for index in 1..<input.count {
                result.append(("split at \(index)", [Array(input[..<index]), Array(input[index...])]))
            }
        }
        result.append(("in 1-byte pieces", input.map { [$0] }))
        return result
    }

    /// The summary of `input` fed whole, after checking that every split of it gives the same.
    func runEveryWay(_ input: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        let whole = run(input)
        for (name, pieces) in Self.splits(of: input) {
            let split = run(pieces)
            if split != whole {
                Issue.record("\(name) gives \(split), whole gives \(whole)", sourceLocation: sourceLocation)
                break
            }
        }
        return whole
    }

    func runEveryWay(_ input: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        runEveryWay(Array(input.utf8), sourceLocation: sourceLocation)
    }
}

/// `text` without its last `count` bytes (`dropLast` counts "\r\n" as one character).
private func dropping(_ count: Int, from text: String) -> String {
    String(decoding: text.utf8.dropLast(count), as: UTF8.self)
}

private func requests(_ input: String, maxHeadBytes: Int = 8192, eof: Bool = false, sourceLocation: SourceLocation = #_sourceLocation)
    -> [String]
{
    Driver(mode: .request, maxHeadBytes: maxHeadBytes, eof: eof).runEveryWay(input, sourceLocation: sourceLocation)
}

private func requests(_ input: [UInt8], eof: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    Driver(mode: .request, eof: eof).runEveryWay(input, sourceLocation: sourceLocation)
}

private func responses(
    _ input: String, answeringHEAD: [Bool] = [], maxHeadBytes: Int = 8192, eof: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) -> [String] {
    Driver(mode: .response, maxHeadBytes: maxHeadBytes, answeringHEAD: answeringHEAD, eof: eof)
        .runEveryWay(input, sourceLocation: sourceLocation)
}

// MARK: - Requests

@Suite struct HTTP1ParserTests {
    @Test func simpleGET() {
        #expect(requests("GET /x HTTP/1.1\r\nHost: a\r\n\r\n") == ["head GET /x 1.1 [Host: a] none", "end nil"])
    }

    @Test func simpleGETGivesTheExpectedHeadValues() throws {
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
        guard case .requestHead(let head, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(head.method == .GET)
        #expect(head.uri == "/a/b?c=d")
        #expect(head.version == .http1_1)
        // Nothing needs the fields as Strings: they are left in the head's bytes.
        #expect(head.headers.isEmpty)
        #expect(RawHead.fields(of: head, raw: facts.raw).map { [$0.name, $0.value] } == [["Host", "example.com"], ["Accept", "*/*"]])
        #expect(facts.framing == .success(.none))
        #expect(facts.keepAlive)
        guard case .end(nil) = try parser.next(&buffer) else {
            Issue.record("no end")
            return
        }
        #expect(!parser.isStopped)
        #expect(!parser.isUpgraded)
        #expect(try parser.next(&buffer) == nil)
        #expect(buffer.readableBytes == 0)
        #expect(try parser.endOfInput(hasLeftover: false) == nil)
    }

    @Test func postWithContentLength() {
        #expect(
            requests("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello") == [
                "head POST /u 1.1 [Host: a, Content-Length: 5] length 5", "body hello", "end nil",
            ])
    }

    @Test func contentLengthBodyMayHoldAnyBytes() {
        let body: [UInt8] = [0x00, 0x0D, 0x0A, 0x0D, 0x0A, 0xFF, 0x80, 0x30]
        let input = Array("PUT /b HTTP/1.1\r\nContent-Length: 8\r\n\r\n".utf8) + body + Array("GET / HTTP/1.1\r\n\r\n".utf8)
        #expect(
            requests(input) == [
                "head PUT /b 1.1 [Content-Length: 8] length 8", "body \\x00\\r\\n\\r\\n\\xFF\\x80" + "0", "end nil",
                "head GET / 1.1 [] none", "end nil",
            ])
    }

    @Test func incompleteBodyWaitsForMore() {
        #expect(
            requests("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello") == [
                "head POST / 1.1 [Content-Length: 10] length 10", "body hello",
            ])
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() {
        let input =
            "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n" + "A; ext\r\n0123456789\r\n" + "00b;a=\"q\";b\r\n, world!!!!\r\n"
            + "0;last\r\nX-Trailer: t\r\nX-Other:  u \r\n\r\n"
        #expect(
            requests(input) == [
                "head POST /c 1.1 [Host: a, Transfer-Encoding: chunked] chunked", "body hello0123456789, world!!!!",
                "end [X-Trailer: t, X-Other: u]",
            ])
    }

    @Test func chunkedBodyWithoutTrailersEndsWithNil() {
        #expect(
            requests("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n") == [
                "head POST / 1.1 [Transfer-Encoding: Chunked] chunked", "body abc", "end nil", "head GET /next 1.1 [] none", "end nil",
            ])
    }

    @Test func chunkSizesInEitherCaseAndWithLeadingZeros() {
        let input =
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + "0000a\r\n0123456789\r\n" + "B\r\nabcdefghijk\r\n"
            + "f\r\n123456789012345\r\n" + "000000000000001\r\nz\r\n" + "00\r\n\r\n"
        #expect(
            requests(input) == [
                "head POST / 1.1 [Transfer-Encoding: chunked] chunked", "body 0123456789abcdefghijk123456789012345z", "end nil",
            ])
    }

    @Test func pipelinedRequestsInOneBuffer() {
        let input =
            "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" + "POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
            + "POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n" + "DELETE /4 HTTP/1.1\r\n\r\n"
            + "GET /5 HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
        #expect(
            requests(input) == [
                "head GET /1 1.1 [Host: a] none", "end nil",
                "head POST /2 1.1 [Content-Length: 3] length 3", "body abc", "end nil",
                "head POST /3 1.1 [Transfer-Encoding: chunked] chunked", "body de", "end [T: v]",
                "head DELETE /4 1.1 [] none", "end nil",
                "head GET /5 1.1 [Content-Length: 0] none", "end nil",
            ])
    }

    /// The parser reuses a head's field list for the next head once the first is gone: a head
    /// still held (a pipelined request's, say) must keep its own fields.
    @Test func aHeldHeadKeepsItsFieldsWhenTheNextIsParsed() throws {
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "GET /1 HTTP/1.1\r\nHost: a\r\nX-One: 1\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n")
        guard case .requestHead(let first, let firstFacts) = try parser.next(&buffer) else {
            Issue.record("no first head")
            return
        }
        _ = try parser.next(&buffer)  // its end
        guard case .requestHead(let second, let secondFacts) = try parser.next(&buffer) else {
            Issue.record("no second head")
            return
        }
        #expect(RawHead.fields(of: first, raw: firstFacts.raw).map { [$0.name, $0.value] } == [["Host", "a"], ["X-One", "1"]])
        #expect(RawHead.fields(of: second, raw: secondFacts.raw).map { [$0.name, $0.value] } == [["Host", "b"]])

        var responses = HTTP1Parser(mode: .response, maxHeadBytes: 1024)
        var input = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nA: 1\r\n\r\nHTTP/1.1 204 No Content\r\nB: 2\r\n\r\n")
        guard case .responseHead(let held, _) = try responses.next(&input) else {
            Issue.record("no first response head")
            return
        }
        _ = try responses.next(&input)  // its end
        guard case .responseHead(let next, _) = try responses.next(&input) else {
            Issue.record("no second response head")
            return
        }
        #expect(held.headers.map { [$0.name, $0.value] } == [["Content-Length", "0"], ["A", "1"]])
        #expect(next.headers.map { [$0.name, $0.value] } == [["B", "2"]])
    }

    /// Once the first head is gone its field list is reused, and the next head reads right.
    @Test func headsParsedOneAfterAnotherReadRight() throws {
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 1024)
        for round in 0..<3 {
            var input = ByteBuffer(string: "HTTP/1.1 204 No Content\r\nRound: \(round)\r\nX: y\r\n\r\n")
            guard case .responseHead(let head, _) = try parser.next(&input) else {
                Issue.record("no head in round \(round)")
                return
            }
            #expect(head.headers.map { [$0.name, $0.value] } == [["Round", "\(round)"], ["X", "y"]])
            _ = try parser.next(&input)
        }
    }

    @Test func pipelinedRequestFollowedByTheStartOfAnother() {
        #expect(
            requests("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nHo") == [
                "head GET /1 1.1 [] none", "end nil", "rest GET /2 HTTP/1.1\\r\\nHo",
            ])
    }

    @Test func emptyLinesBeforeARequestAreSkipped() {
        #expect(
            requests("\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\nGET /b HTTP/1.1\r\n\r\n\r\n", eof: true) == [
                "head GET / 1.1 [] none", "end nil", "head GET /b 1.1 [] none", "end nil",
            ])
    }

    @Test func onlyEmptyLinesAreNotARequest() {
        #expect(requests("\r\n\r\n\r\n", eof: true) == [])
        #expect(requests("\r\n\r", eof: true) == ["error invalidEOFState"])
    }

    @Test func http10() throws {
        #expect(
            requests("GET /old HTTP/1.0\r\nUser-Agent: x\r\n\r\n") == ["head GET /old 1.0 [User-Agent: x] none", "end nil"])
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "GET / HTTP/1.0\r\n\r\n")
        guard case .requestHead(let head, _) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(head.version == .http1_0)
        #expect(!head.isKeepAlive)
    }

    @Test func laterMinorVersionsAreKept() {
        #expect(requests("GET / HTTP/1.2\r\n\r\n") == ["head GET / 1.2 [] none", "end nil"])
    }

    @Test(arguments: [
        ("GET", HTTPMethod.GET), ("PUT", .PUT), ("POST", .POST), ("HEAD", .HEAD), ("DELETE", .DELETE), ("OPTIONS", .OPTIONS),
        ("PATCH", .PATCH), ("TRACE", .TRACE), ("PURGE", .PURGE), ("PROPFIND", .PROPFIND), ("MSEARCH", .MSEARCH),
        // NIO's decoder read this as .MSEARCH, whose raw value (written upstream) is "MSEARCH".
        ("M-SEARCH", .RAW(value: "M-SEARCH")),
        ("BREW", .RAW(value: "BREW")), ("get", .RAW(value: "get")), ("GETS", .RAW(value: "GETS")), ("PO", .RAW(value: "PO")),
        ("X-CUSTOM_1.2~!", .RAW(value: "X-CUSTOM_1.2~!")),
    ])
    func methods(_ name: String, _ method: HTTPMethod) throws {
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "\(name) / HTTP/1.1\r\n\r\n")
        guard case .requestHead(let head, _) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(head.method == method)
        #expect(head.method.rawValue == name)
    }

    @Test func unknownMethodIsRaw() {
        #expect(requests("BREW /pot HTTP/1.1\r\n\r\n") == ["head RAW(BREW) /pot 1.1 [] none", "end nil"])
    }

    @Test(arguments: [
        "/", "*", "/a/b/c?x=1&y=%20z#frag", "http://example.com:8080/p?q", "example.com:443", "/~!$&'()*+,;=:@[]{}|^`\"<>",
    ])
    func requestTargetsArePassedOnAsTheyAre(_ target: String) {
        #expect(requests("OPTIONS \(target) HTTP/1.1\r\n\r\n") == ["head OPTIONS \(show(target.utf8)) 1.1 [] none", "end nil"])
    }

    @Test func headerValuesAreTrimmed() {
        let input = "GET / HTTP/1.1\r\nA:   v  \r\nB:\tv w\t\r\nC:\r\nD: \t \r\nE:x\r\nF: a  b \t c\r\n\r\n"
        #expect(requests(input) == ["head GET / 1.1 [A: v, B: v w, C: , D: , E: x, F: a  b \\t c] none", "end nil"])
    }

    @Test func fieldNamesAndMethodsTakeExactlyTheTokenCharacters() {
        let tchars = Set("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        func accepts(_ start: String, _ byte: UInt8, _ end: String) -> Bool {
            var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
            var buffer = ByteBuffer(string: start)
            buffer.writeInteger(byte)
            buffer.writeString(end)
            return (try? parser.next(&buffer)) != nil
        }
        for byte in UInt8.min...UInt8.max {
            if byte != UInt8(ascii: ":") {
                #expect(accepts("GET / HTTP/1.1\r\nx", byte, "y: v\r\n\r\n") == tchars.contains(byte), "field name byte \(byte)")
            }
            if byte != UInt8(ascii: " ") {
                #expect(accepts("G", byte, "T / HTTP/1.1\r\n\r\n") == tchars.contains(byte), "method byte \(byte)")
            }
        }
    }

    @Test func headerNamesKeepTheirCaseAndRepeats() {
        let input = "GET / HTTP/1.1\r\nx-lower: 1\r\nX-UPPER: 2\r\nSet-Thing: a\r\nset-thing: b\r\n!#$%&'*+-.^_`|~0: t\r\n\r\n"
        #expect(
            requests(input) == [
                "head GET / 1.1 [x-lower: 1, X-UPPER: 2, Set-Thing: a, set-thing: b, !#$%&'*+-.^_`|~0: t] none", "end nil",
            ])
    }

    @Test func obsTextInValuesIsAccepted() throws {
        // Valid UTF-8 is kept; other obs-text bytes become U+FFFD, as with NIO's decoder.
        let input =
            Array("GET / HTTP/1.1\r\nX-UTF8: caf\u{E9}\r\nX-Latin1: caf".utf8) + [0xE9] + Array("\r\nX-High: ".utf8) + [0x80, 0xFF]
            + Array("\r\n\r\n".utf8)
        #expect(
            requests(input) == [
                "head GET / 1.1 [X-UTF8: caf\\xC3\\xA9, X-Latin1: caf\\xEF\\xBF\\xBD, X-High: \\xEF\\xBF\\xBD\\xEF\\xBF\\xBD] none",
                "end nil",
            ])
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(bytes: input)
        guard case .requestHead(let head, _) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(head.headers["X-UTF8"] == ["caf\u{E9}"])
        #expect(head.headers["X-Latin1"] == ["caf\u{FFFD}"])
        #expect(try nioRequestSummary(input) == Driver(mode: .request).run(input))
    }

    @Test func obsTextInReasonPhraseIsAccepted() {
        let input = Array("HTTP/1.1 200 Tr\u{E8}s bien\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(Driver(mode: .response).runEveryWay(input) == ["head 200 1.1 [Content-Length: 0]", "end nil"])
    }

    // MARK: refusals

    @Test(arguments: [
        // Line endings.
        ("GET / HTTP/1.1\nHost: a\r\n\r\n", HTTPParserError.lfExpected),
        ("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", .lfExpected),
        ("GET / HTTP/1.1\r\n\nHost: a\r\n\r\n", .lfExpected),
        ("GET / HTTP/1.1\rHost: a\r\n\r\n", .lfExpected),
        ("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", .lfExpected),
        ("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", .lfExpected),
        ("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n\r\n", .lfExpected),
        // Field syntax.
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\n Host: a\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nX: a\u{01}b\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nX: a\u{00}b\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nX: a\u{7F}b\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nX: a\u{1B}\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\n: a\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nHost a\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nHo\u{E9}st: a\r\n\r\n", .invalidHeaderToken),
        // Version.
        ("GET / HTTP/2.0\r\n\r\n", .invalidVersion),
        ("GET / HTTP/1.x\r\n\r\n", .invalidVersion),
        ("GET / HTTP/x.1\r\n\r\n", .invalidVersion),
        ("GET / HTTP/0.9\r\n\r\n", .invalidVersion),
        ("GET / HTTP/1\r\n\r\n", .invalidVersion),
        ("GET / HTTP/1.10\r\n\r\n", .invalidVersion),
        ("GET / HTTP/11\r\n\r\n", .invalidVersion),
        ("GET / http/1.1\r\n\r\n", .invalidVersion),
        ("GET / HTTP/1.1 \r\n\r\n", .invalidVersion),
        ("GET / HTTPS/1.1\r\n\r\n", .invalidVersion),
        ("GET / \r\n\r\n", .invalidVersion),
        // Request target: a space ends it, so what follows is read as the version.
        ("GET /a b HTTP/1.1\r\n\r\n", .invalidVersion),
        ("GET  / HTTP/1.1\r\n\r\n", .invalidURL),
        ("GET /\r\n\r\n", .invalidURL),
        ("GET /a\tb HTTP/1.1\r\n\r\n", .invalidURL),
        ("GET /a\u{01}b HTTP/1.1\r\n\r\n", .invalidURL),
        ("GET /a\u{7F}b HTTP/1.1\r\n\r\n", .invalidURL),
        // Method.
        (" / HTTP/1.1\r\n\r\n", .invalidMethod),
        ("GET\r\n\r\n", .invalidMethod),
        ("G(T / HTTP/1.1\r\n\r\n", .invalidMethod),
        ("GE\tT / HTTP/1.1\r\n\r\n", .invalidMethod),
        ("G\u{E9}T / HTTP/1.1\r\n\r\n", .invalidMethod),
    ])
    func refusesMalformedRequestHeads(_ input: String, _ error: HTTPParserError) {
        #expect(requests(input) == ["error " + name(error)])
    }

    @Test func errorComesAfterTheMessagesBeforeIt() {
        #expect(
            requests("GET /ok HTTP/1.1\r\n\r\nGET /bad HTTP/1.1\r\nX : y\r\n\r\n") == [
                "head GET /ok 1.1 [] none", "end nil", "error invalidHeaderToken",
            ])
    }

    /// A bare LF is refused as soon as it arrives, not only once the head is complete (a head
    /// of bare LFs would otherwise wait for its size limit or the header timeout).
    @Test func bareLFIsRefusedAtOnce() {
        #expect(requests("GET / HTTP/1.1\nHost: a\n\n") == ["error lfExpected"])
        #expect(requests("GET / HTTP/1.1\nHo") == ["error lfExpected"])
        #expect(requests("GET / HTTP/1.1\r\nHost: a\n\n", eof: true) == ["error lfExpected"])
    }

    @Test(arguments: [
        ("zz\r\n", HTTPParserError.invalidChunkSize),
        ("\r\n", .invalidChunkSize),
        (";ext\r\n", .invalidChunkSize),
        ("0x5\r\nhello\r\n", .invalidChunkSize),
        ("-1\r\n", .invalidChunkSize),
        ("+5\r\nhello\r\n", .invalidChunkSize),
        (" 5\r\nhello\r\n", .invalidChunkSize),
        ("5 x\r\nhello\r\n", .invalidChunkSize),
        ("5 \r\nhello\r\n", .invalidChunkSize),
        ("5x\r\nhello\r\n", .invalidChunkSize),
        ("5;a\u{01}\r\nhello\r\n", .invalidChunkSize),
        ("5;a\u{7F}\r\nhello\r\n", .invalidChunkSize),
        // Too many digits: sixteen (whatever their value) could overflow.
        ("10000000000000000\r\n", .invalidChunkSize),
        ("0000000000000005\r\nhello\r\n", .invalidChunkSize),
        ("FFFFFFFFFFFFFFFFFFFF\r\n", .invalidChunkSize),
        // The data must be followed by CRLF.
        ("5\r\nhelloX\r\n0\r\n\r\n", .invalidChunkSize),
        ("5\r\nhello\n0\r\n\r\n", .invalidChunkSize),
        ("5\r\nhello\r0\r\n\r\n", .invalidChunkSize),
        ("5\r\nhello0\r\n\r\n", .invalidChunkSize),
        // Chunk lines end with CRLF too.
        ("5\nhello\r\n0\r\n\r\n", .lfExpected),
        ("5;a=b\nhello\r\n0\r\n\r\n", .lfExpected),
        ("5\r\nhello\r\n0\nX: y\r\n\r\n", .lfExpected),
        // Trailer fields are checked like header fields.
        ("0\r\nX : y\r\n\r\n", .invalidHeaderToken),
        ("0\r\nX: y\r\n z\r\n\r\n", .invalidHeaderToken),
        ("0\r\nX: y\u{01}\r\n\r\n", .invalidHeaderToken),
        ("0\r\nX: y\nZ: w\r\n\r\n", .lfExpected),
    ])
    func refusesMalformedChunks(_ chunks: String, _ error: HTTPParserError) {
        let head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        let result = requests(head + chunks)
        #expect(result.first == "head POST / 1.1 [Transfer-Encoding: chunked] chunked")
        #expect(result.last == "error " + name(error))
    }

    @Test func fifteenHexDigitsAreAccepted() {
        #expect(
            requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n000000000000005\r\nhello\r\n0\r\n\r\n") == [
                "head POST / 1.1 [Transfer-Encoding: chunked] chunked", "body hello", "end nil",
            ])
    }

    @Test func longChunkLineIsRefusedWhileIncomplete() {
        let head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        let line = "5;" + String(repeating: "e", count: HTTP1Parser.maxChunkLineBytes - 1)
        #expect(
            Driver(mode: .request).run(Array((head + line).utf8)) == [
                "head POST / 1.1 [Transfer-Encoding: chunked] chunked", "error invalidChunkSize",
            ])
        let shortLine = "5;" + String(repeating: "e", count: HTTP1Parser.maxChunkLineBytes - 3)
        #expect(
            Driver(mode: .request).run(Array((head + shortLine).utf8)) == [
                "head POST / 1.1 [Transfer-Encoding: chunked] chunked", "rest \(shortLine)",
            ])
    }

    /// A chunk line over the limit is refused whether it arrives whole or in pieces.
    @Test func longChunkLineIsTreatedTheSameHoweverItArrives() {
        let input = Array(
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + "5;" + String(repeating: "e", count: 2 * HTTP1Parser.maxChunkLineBytes)
                + "\r\nhello\r\n0\r\n\r\n").utf8)
        let driver = Driver(mode: .request)
        let whole = driver.run(input)
        let inPieces = driver.run(stride(from: 0, to: input.count, by: 1024).map { Array(input[$0..<min($0 + 1024, input.count)]) })
        #expect(whole == inPieces)
        #expect(whole.last == "error invalidChunkSize")
    }

    @Test func headOverMaxHeadBytesIsRefused() {
        let head = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 40) + "\r\n\r\n"
        let size = head.utf8.count
        // Exactly at the limit: accepted.
        #expect(requests(head, maxHeadBytes: size) == ["head GET / 1.1 [X: \(String(repeating: "a", count: 40))] none", "end nil"])
        // One byte over, complete.
        #expect(requests(head, maxHeadBytes: size - 1) == ["error headerOverflow"])
        // Incomplete, but already longer than the limit.
        #expect(requests(dropping(4, from: head), maxHeadBytes: size - 5) == ["error headerOverflow"])
        // Incomplete, and not yet longer than the limit: waits.
        #expect(requests(dropping(4, from: head), maxHeadBytes: size - 4) == ["rest \(show(dropping(4, from: head).utf8))"])
    }

    @Test func limitAppliesToEachHeadNotToTheBuffer() {
        let one = "GET /1 HTTP/1.1\r\nHost: abcdefgh\r\n\r\n"
        let input = String(repeating: one, count: 5)
        #expect(requests(input, maxHeadBytes: one.utf8.count).count == 10)
    }

    @Test func trailersOverMaxHeadBytesAreRefused() {
        let head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        let trailers = "X-T: " + String(repeating: "t", count: 60) + "\r\n\r\n"
        #expect(
            requests(head + "1\r\na\r\n0\r\n" + trailers, maxHeadBytes: 64) == [
                "head POST / 1.1 [Transfer-Encoding: chunked] chunked", "body a", "error headerOverflow",
            ])
        #expect(
            requests(head + "1\r\na\r\n0\r\n" + dropping(4, from: trailers), maxHeadBytes: 64) == [
                "head POST / 1.1 [Transfer-Encoding: chunked] chunked", "body a", "error headerOverflow",
            ])
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost", ["error invalidEOFState"]),
        ("GET / HTTP/1.1\r\nHost: a\r\n\r", ["error invalidEOFState"]),
        ("G", ["error invalidEOFState"]),
        ("GET / HTTP/1.1\r\n\r\n\r", ["head GET / 1.1 [] none", "end nil", "error invalidEOFState"]),
        ("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel", ["head POST / 1.1 [Content-Length: 5] length 5", "body hel", "error invalidEOFState"]),
        ("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", ["head POST / 1.1 [Content-Length: 5] length 5", "error invalidEOFState"]),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", ["head POST / 1.1 [Transfer-Encoding: chunked] chunked", "error invalidEOFState"]),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5", ["head POST / 1.1 [Transfer-Encoding: chunked] chunked", "error invalidEOFState"]),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe", ["head POST / 1.1 [Transfer-Encoding: chunked] chunked", "body he", "error invalidEOFState"]),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello", ["head POST / 1.1 [Transfer-Encoding: chunked] chunked", "body hello", "error invalidEOFState"]),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", ["head POST / 1.1 [Transfer-Encoding: chunked] chunked", "body hello", "error invalidEOFState"]),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n", ["head POST / 1.1 [Transfer-Encoding: chunked] chunked", "error invalidEOFState"]),
        ("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", ["head POST / 1.1 [Content-Length: 2] length 2", "body hi", "end nil"]),
        ("GET / HTTP/1.1\r\n\r\n\r\n", ["head GET / 1.1 [] none", "end nil"]),
        ("", []),
    ])
    func endOfInput(_ input: String, _ expected: [String]) {
        #expect(requests(input, eof: true) == expected)
    }

    // MARK: request framing

    @Test(arguments: [
        ("Content-Length: 5\r\nTransfer-Encoding: chunked", "contentLengthWithTransferEncoding"),
        ("Transfer-Encoding: chunked\r\nContent-Length: 5", "contentLengthWithTransferEncoding"),
        ("Content-Length: 5\r\nContent-Length: 6", "conflictingContentLengths"),
        ("Content-Length: 5, 6", "conflictingContentLengths"),
        ("Content-Length: abc", "invalidContentLength"),
        ("Content-Length: -1", "invalidContentLength"),
        ("Content-Length:", "invalidContentLength"),
        ("Content-Length: 99999999999999999999999", "invalidContentLength"),
        ("Transfer-Encoding: gzip", "unsupportedTransferEncoding"),
        ("Transfer-Encoding: gzip, chunked", "unsupportedTransferEncoding"),
        ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "unsupportedTransferEncoding"),
        ("TRANSFER-ENCODING: identity", "unsupportedTransferEncoding"),
    ])
    func refusedFramingStopsTheParser(_ fields: String, _ problem: String) throws {
        let rest = "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"
        let result = requests("POST /f HTTP/1.1\r\n\(fields)\r\n\r\n" + rest)
        #expect(result.count == 3)
        #expect(result.first?.hasPrefix("head POST /f 1.1 [") == true)
        #expect(result.first?.hasSuffix("] refused \(problem)") == true)
        #expect(Array(result.dropFirst()) == ["stopped", "rest " + show(rest.utf8)])

        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "POST /f HTTP/1.1\r\n\(fields)\r\n\r\n" + rest)
        guard case .requestHead(_, let facts) = try parser.next(&buffer), case .failure = facts.framing else {
            Issue.record("no refused head")
            return
        }
        #expect(parser.isStopped)
        #expect(!parser.isUpgraded)
        #expect(try parser.next(&buffer) == nil)
        #expect(buffer.readableBytes == rest.utf8.count)
        #expect(try parser.endOfInput(hasLeftover: true) == nil)
    }

    @Test func contentLengthWithTransferEncodingIsRefused() {
        #expect(
            requests("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") == [
                "head POST / 1.1 [Content-Length: 5, Transfer-Encoding: chunked] refused contentLengthWithTransferEncoding", "stopped",
            ])
    }

    @Test(arguments: [
        ("Content-Length: 0", "Content-Length: 0"), ("Content-Length: 000", "Content-Length: 000"), ("content-length:0", "content-length: 0"),
        ("Content-Length: 0\r\nContent-Length: 0", "Content-Length: 0, Content-Length: 0"),
    ])
    func zeroContentLengthEndsAtOnce(_ fields: String, _ shown: String) {
        #expect(
            requests("POST / HTTP/1.1\r\n\(fields)\r\n\r\nGET /next HTTP/1.1\r\n\r\n") == [
                "head POST / 1.1 [\(shown)] none", "end nil",
                "head GET /next 1.1 [] none", "end nil",
            ])
    }

    @Test(arguments: [
        ("Content-Length: 7", "length 7"), ("CONTENT-LENGTH:  7 ", "length 7"), ("Content-Length: 7, 7", "length 7"),
        ("Content-Length: 7\r\nContent-Length: 7", "length 7"), ("transfer-encoding: CHUNKED", "chunked"),
    ])
    func framingHeadersInAnyCase(_ fields: String, _ framing: String) throws {
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "POST / HTTP/1.1\r\n\(fields)\r\n\r\n")
        guard case .requestHead(_, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(show(facts.framing) == framing)
    }

    /// Framing headers in trailers do not change anything.
    @Test func framingFieldsInTrailersAreJustTrailers() {
        #expect(
            requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\nGET / HTTP/1.1\r\n\r\n") == [
                "head POST / 1.1 [Transfer-Encoding: chunked] chunked", "end [Content-Length: 5]", "head GET / 1.1 [] none", "end nil",
            ])
    }

    // MARK: upgrades

    @Test(arguments: [
        "Connection: Upgrade\r\nUpgrade: websocket",
        "Upgrade: websocket\r\nConnection: keep-alive, upgrade",
        "connection: UPGRADE\r\nupgrade: h2c",
        "Connection: close\r\nConnection: Upgrade\r\nUpgrade: websocket",
    ])
    func upgradeRequestStopsAfterItsHead(_ fields: String) throws {
        let head = "GET /ws HTTP/1.1\r\nHost: a\r\n\(fields)\r\n\r\n"
        let frames: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        let result = requests(Array(head.utf8) + frames + Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(result.count == 4)
        #expect(result.first?.hasPrefix("head GET /ws 1.1 [Host: a, ") == true)
        #expect(Array(result.dropFirst()) == ["end nil", "stopped", "rest " + show(frames) + "GET / HTTP/1.1\\r\\n\\r\\n"])

        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: head)
        buffer.writeBytes(frames)
        guard case .requestHead(_, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(facts.framing == .success(.none))
        #expect(!facts.keepAlive)
        #expect(!parser.isStopped)
        guard case .end(nil) = try parser.next(&buffer) else {
            Issue.record("no end")
            return
        }
        #expect(parser.isStopped)
        #expect(parser.isUpgraded)
        #expect(try parser.next(&buffer) == nil)
        #expect(Array(buffer.readableBytesView) == frames)
        buffer.writeString("more")
        #expect(try parser.next(&buffer) == nil)
        #expect(buffer.readableBytes == frames.count + 4)
        #expect(try parser.endOfInput(hasLeftover: true) == nil)
    }

    @Test func upgradeRequestWithABodyStopsAfterTheBody() {
        #expect(
            requests("POST /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: x\r\nContent-Length: 2\r\n\r\nhiTUNNEL") == [
                "head POST /ws 1.1 [Connection: upgrade, Upgrade: x, Content-Length: 2] length 2", "body hi", "end nil", "stopped",
                "rest TUNNEL",
            ])
    }

    @Test(arguments: [
        "Upgrade: websocket", "Connection: Upgrade", "Connection: keep-alive\r\nUpgrade: websocket", "Connection: upgraded\r\nUpgrade: x",
    ])
    func halfAnUpgradeIsAnOrdinaryRequest(_ fields: String) {
        let result = requests("GET /ws HTTP/1.1\r\n\(fields)\r\n\r\nGET /next HTTP/1.1\r\n\r\n")
        #expect(result.count == 4)
        #expect(Array(result.dropFirst()) == ["end nil", "head GET /next 1.1 [] none", "end nil"])
    }

    @Test func connectStopsAfterItsHead() {
        let input = Array("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n".utf8) + [0x16, 0x03, 0x01, 0x00, 0x05]
        #expect(
            requests(input) == [
                "head CONNECT example.com:443 1.1 [Host: example.com:443] none", "end nil", "stopped", "rest \\x16\\x03\\x01\\x00\\x05",
            ])
    }

    /// RFC 9110 §9.3.6: a CONNECT request has no content; what follows its head is the tunnel's.
    /// NIO's decoder (llhttp) upgrades right after the head whatever the framing headers say.
    @Test func connectWithContentLengthStopsAfterItsHead() throws {
        let input = Array("CONNECT example.com:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".utf8)
        let result = requests(input)
        #expect(try nioRequestSummary(input) == ["head CONNECT example.com:443 1.1 [Content-Length: 5] length 5", "end nil"])
        #expect(Array(result.dropFirst()) == ["end nil", "stopped", "rest hello"])
    }

    @Test(arguments: [
        ("GET / HTTP/1.1", "", true), ("GET / HTTP/1.1", "Connection: close", false), ("GET / HTTP/1.1", "Connection: Close", false),
        ("GET / HTTP/1.1", "Connection: keep-alive", true), ("GET / HTTP/1.1", "Connection: keep-alive, close", false),
        ("GET / HTTP/1.1", "Connection: x-foo\r\nConnection: close", false), ("GET / HTTP/1.1", "Connection: closed", true),
        ("GET / HTTP/1.0", "", false), ("GET / HTTP/1.0", "Connection: keep-alive", true), ("GET / HTTP/1.0", "Connection: Keep-Alive", true),
        ("GET / HTTP/1.0", "Connection: close", false), ("GET / HTTP/1.1", "Connection: upgrade", true),
        ("GET / HTTP/1.1", "Upgrade: websocket", true), ("GET / HTTP/1.1", "Connection: upgrade\r\nUpgrade: websocket", false),
        ("CONNECT a:443 HTTP/1.1", "", false), ("POST / HTTP/1.1", "Content-Length: 1\r\nTransfer-Encoding: chunked", true),
    ])
    func requestKeepAlive(_ line: String, _ fields: String, _ keepAlive: Bool) throws {
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "\(line)\r\n" + (fields.isEmpty ? "" : fields + "\r\n") + "\r\n")
        guard case .requestHead(let head, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(facts.keepAlive == keepAlive)
        // The same as what the gateway reads from heads that did not come from this parser.
        #expect(RequestHeadFacts.of(head).keepAlive == keepAlive)
    }

    // MARK: - Responses

    @Test(arguments: [
        ("HTTP/1.1 200 OK", "", true), ("HTTP/1.1 200 OK", "Connection: close", false), ("HTTP/1.1 200 OK", "Connection: keep-alive", true),
        ("HTTP/1.0 200 OK", "", false), ("HTTP/1.0 200 OK", "Connection: keep-alive", true), ("HTTP/1.0 200 OK", "Connection: close", false),
        ("HTTP/1.1 100 Continue", "", true), ("HTTP/1.1 204 No Content", "Connection: CLOSE", false),
    ])
    func responseKeepAlive(_ line: String, _ fields: String, _ keepAlive: Bool) throws {
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "\(line)\r\n" + (fields.isEmpty ? "" : fields + "\r\n") + "\r\n")
        guard case .responseHead(let head, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(facts.keepAlive == keepAlive)
        #expect(head.head.isKeepAlive == keepAlive)
    }

    @Test(arguments: [
        ("", false, false), ("Content-Length: 0", true, false), ("content-length: 3", true, false), ("Transfer-Encoding: chunked", false, true),
        ("TRANSFER-ENCODING: gzip", false, true), ("Content-Lengths: 3", false, false),
    ])
    func responseLengthFields(_ fields: String, _ contentLength: Bool, _ transferEncoding: Bool) throws {
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\n" + (fields.isEmpty ? "" : fields + "\r\n") + "\r\n")
        guard case .responseHead(_, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(facts.hasContentLength == contentLength)
        #expect(facts.hasTransferEncoding == transferEncoding)
    }

    @Test func responseWithContentLength() {
        #expect(
            responses("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: s\r\n\r\nhello") == [
                "head 200 1.1 [Content-Length: 5, Server: s]", "body hello", "end nil",
            ])
    }

    @Test func responseHeadValues() throws {
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        guard case .responseHead(let head, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(head.status == .notFound)
        #expect(!facts.keepAlive)
        #expect(facts.hasContentLength)
        #expect(!facts.hasTransferEncoding)
        #expect(head.version == .http1_0)
        #expect(head.headers["content-length"] == ["0"])
        guard case .end(nil) = try parser.next(&buffer) else {
            Issue.record("no end")
            return
        }
        #expect(!parser.isStopped)
    }

    @Test func chunkedResponseWithTrailers() {
        #expect(
            responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n") == [
                "head 200 1.1 [Transfer-Encoding: chunked]", "body wikipedia", "end [Expires: never, X-Sum: 1]",
            ])
    }

    @Test func responseWithoutLengthIsReadUntilClose() {
        let input = "HTTP/1.1 200 OK\r\nServer: s\r\n\r\nsome\r\n\r\nHTTP/1.1 200 OK\r\n\r\nbytes"
        #expect(responses(input) == ["head 200 1.1 [Server: s]", "body some\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\n\\r\\nbytes"])
        #expect(
            responses(input, eof: true) == [
                "head 200 1.1 [Server: s]", "body some\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\n\\r\\nbytes", "end nil",
            ])
        #expect(responses("HTTP/1.0 200 OK\r\n\r\n", eof: true) == ["head 200 1.0 []", "end nil"])
    }

    @Test func readUntilCloseEndsFromEndOfInput() throws {
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\nabc")
        guard case .responseHead = try parser.next(&buffer), case .body(let body) = try parser.next(&buffer) else {
            Issue.record("no head and body")
            return
        }
        #expect(String(buffer: body) == "abc")
        #expect(try parser.next(&buffer) == nil)
        guard case .end(nil) = try parser.endOfInput(hasLeftover: false) else {
            Issue.record("no end")
            return
        }
    }

    @Test(arguments: [
        "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    ])
    func responsesWithoutBody(_ head: String) {
        let result = responses(head + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
        #expect(result.count == 5)
        #expect(Array(result.dropFirst()) == ["end nil", "head 200 1.1 [Content-Length: 2]", "body hi", "end nil"])
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n",
    ])
    func responseToHEADHasNoBody(_ head: String) {
        let result = responses(head + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", answeringHEAD: [true, false])
        #expect(result.count == 5)
        #expect(Array(result.dropFirst()) == ["end nil", "head 200 1.1 [Content-Length: 2]", "body hi", "end nil"])
    }

    @Test func answeringHEADIsClearedByTheFinalHead() throws {
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 1024)
        parser.answeringHEAD = true
        var buffer = ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")
        _ = try parser.next(&buffer)
        #expect(parser.answeringHEAD)
        buffer.writeString("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")
        _ = try parser.next(&buffer)
        #expect(!parser.answeringHEAD)
        guard case .end(nil) = try parser.next(&buffer) else {
            Issue.record("no end")
            return
        }
    }

    @Test func informationalHeadsComeBeforeTheFinalOne() {
        #expect(
            responses("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi") == [
                "head 100 1.1 []", "head 103 1.1 [Link: </s.css>; rel=preload]", "head 200 1.1 [Content-Length: 2]", "body hi", "end nil",
            ])
        // Informational heads never have bodies, whatever they say.
        #expect(
            responses("HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n") == [
                "head 100 1.1 [Content-Length: 3]", "head 204 1.1 []", "end nil",
            ])
    }

    @Test func informationalHeadKeepsAnsweringHEAD() {
        #expect(
            responses("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", answeringHEAD: [true]) == [
                "head 100 1.1 []", "head 200 1.1 [Content-Length: 5]", "end nil",
            ])
    }

    @Test func informationalHeadAloneIsNotAMessage() throws {
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")
        guard case .responseHead(let head, _) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(head.status == .continue)
        #expect(try parser.next(&buffer) == nil)
        #expect(!parser.isStopped)
    }

    @Test func switchingProtocolsStopsAfterItsHead() throws {
        let frames: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        let head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\n"
        let input = Array(head.utf8) + frames
        #expect(
            Driver(mode: .response).runEveryWay(input) == [
                "head 101 1.1 [Connection: Upgrade, Upgrade: websocket, Content-Length: 3]", "end nil", "stopped",
                "rest " + show(frames),
            ])
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 1024)
        var buffer = ByteBuffer(bytes: input)
        _ = try parser.next(&buffer)
        _ = try parser.next(&buffer)
        #expect(parser.isStopped)
        #expect(try parser.next(&buffer) == nil)
        #expect(Array(buffer.readableBytesView) == frames)
        #expect(try parser.endOfInput(hasLeftover: true) == nil)
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\ncontent-length: 5\r\n\r\n",
    ])
    func responseWithContentLengthAndTransferEncodingIsRefused(_ input: String) {
        #expect(responses(input) == ["error unexpectedContentLength"])
    }

    @Test(arguments: [
        "abc", "-1", "+5", "5, 6", "", " ", "5,", ",5", "0x5", "5 5", "1234567890123456789", "99999999999999999999999",
    ])
    func responseWithInvalidContentLengthIsRefused(_ value: String) {
        #expect(responses("HTTP/1.1 200 OK\r\nContent-Length: \(value)\r\n\r\n") == ["error invalidContentLength"])
    }

    @Test func responseWithConflictingContentLengthsIsRefused() {
        #expect(responses("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") == ["error invalidContentLength"])
    }

    @Test(arguments: [
        ("Content-Length: 5, 5", ["head 200 1.1 [Content-Length: 5, 5]", "body hello", "end nil"]),
        ("Content-Length: 5\r\ncontent-length: 5", ["head 200 1.1 [Content-Length: 5, content-length: 5]", "body hello", "end nil"]),
        ("Content-Length: 005", ["head 200 1.1 [Content-Length: 005]", "body hello", "end nil"]),
        ("Content-Length:  3 ", ["head 200 1.1 [Content-Length: 3]", "body hel", "end nil", "rest lo"]),
        ("Content-Length: 123456789012345678", ["head 200 1.1 [Content-Length: 123456789012345678]", "body hello"]),
    ])
    func responseContentLengths(_ fields: String, _ expected: [String]) {
        #expect(responses("HTTP/1.1 200 OK\r\n\(fields)\r\n\r\nhello") == expected)
    }

    @Test func zeroLengthResponseEndsAtOnce() {
        #expect(
            responses("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == [
                "head 200 1.1 [Content-Length: 0]", "end nil", "head 200 1.1 [Content-Length: 0]", "end nil",
            ])
    }

    @Test(arguments: [
        ("gzip", false), ("gzip, chunked", true), ("chunked, gzip", false), ("Chunked", true), ("identity", false), ("", false),
        ("xchunked", false),
    ])
    func responseTransferCodings(_ codings: String, _ chunked: Bool) {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: \(codings)\r\n\r\n"
        let fields = codings.isEmpty ? "Transfer-Encoding: " : "Transfer-Encoding: \(codings)"
        if chunked {
            #expect(responses(head + "3\r\nabc\r\n0\r\n\r\n", eof: true) == ["head 200 1.1 [\(fields)]", "body abc", "end nil"])
        } else {
            #expect(responses(head + "3\r\nabc\r\n0\r\n\r\n", eof: true) == ["head 200 1.1 [\(fields)]", "body 3\\r\\nabc\\r\\n0\\r\\n\\r\\n", "end nil"])
        }
    }

    @Test(arguments: [
        ("HTTP/1.1 200\r\n\r\n", "200"), ("HTTP/1.1 200 \r\n\r\n", "200"), ("HTTP/1.1 404 \r\n\r\n", "404"),
        ("HTTP/1.1 599 Whatever It Is\r\n\r\n", "599"), ("HTTP/1.1 999 x\r\n\r\n", "999"), ("HTTP/1.1 200 O\tK\r\n\r\n", "200"),
        ("HTTP/1.0 200 OK\r\n\r\n", "200"),
    ])
    func statusLines(_ head: String, _ code: String) {
        let version = head.hasPrefix("HTTP/1.0") ? "1.0" : "1.1"
        #expect(responses(head, eof: true) == ["head \(code) \(version) []", "end nil"])
    }

    @Test(arguments: [
        ("HTTP/1.1 20 OK\r\n\r\n", HTTPParserError.invalidStatus),
        ("HTTP/1.1 20\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 2x0 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 abc OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 2000 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 099 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 000\r\n\r\n", .invalidStatus),
        ("HTTP/1.1  200 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1\t200 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 200 O\u{01}K\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 200 O\u{7F}K\r\n\r\n", .invalidStatus),
        ("HTTP/1.1 -20 OK\r\n\r\n", .invalidStatus),
        ("HTTP/1.1\r\n\r\n", .invalidStatus),
        ("HTTP/2.0 200 OK\r\n\r\n", .invalidVersion),
        ("HTTP/1.x 200 OK\r\n\r\n", .invalidVersion),
        ("http/1.1 200 OK\r\n\r\n", .invalidVersion),
        ("HTTP/1.1 200 OK\nX: y\r\n\r\n", .lfExpected),
        ("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", .invalidHeaderToken),
        ("HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", .invalidHeaderToken),
        ("HTTP/1.1 200 OK\r\nX: \u{00}\r\n\r\n", .invalidHeaderToken),
    ])
    func refusesMalformedResponseHeads(_ input: String, _ error: HTTPParserError) {
        #expect(responses(input) == ["error " + name(error)])
    }

    @Test func responseHeadOverMaxHeadBytesIsRefused() {
        let head = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 40) + "\r\n\r\n"
        let size = head.utf8.count
        #expect(responses(head, maxHeadBytes: size, eof: true).count == 2)
        #expect(responses(head, maxHeadBytes: size - 1) == ["error headerOverflow"])
        #expect(responses(dropping(2, from: head), maxHeadBytes: size - 3) == ["error headerOverflow"])
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", ["head 200 1.1 [Content-Length: 5]", "body hel", "error invalidEOFState"]),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", ["head 200 1.1 [Transfer-Encoding: chunked]", "body hello", "error invalidEOFState"]),
        ("HTTP/1.1 200 OK\r\nContent-Len", ["error invalidEOFState"]),
        ("HTTP/1.1 100 Continue\r\n\r\n", ["head 100 1.1 []"]),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", ["head 200 1.1 [Content-Length: 1]", "body x", "end nil"]),
        ("", []),
    ])
    func responseEndOfInput(_ input: String, _ expected: [String]) {
        #expect(responses(input, eof: true) == expected)
    }

    @Test func pipelinedResponses() {
        let input =
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na" + "HTTP/1.1 100 Continue\r\n\r\n"
            + "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n" + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\n\r\n" + "HTTP/1.1 200 OK\r\n\r\nrest"
        #expect(
            responses(input, answeringHEAD: [false, false, true], eof: true) == [
                "head 200 1.1 [Content-Length: 1]", "body a", "end nil", "head 100 1.1 []", "head 201 1.1 [Transfer-Encoding: chunked]",
                "body b", "end nil", "head 200 1.1 [Content-Length: 4]", "end nil", "head 304 1.1 []", "end nil", "head 200 1.1 []",
                "body rest", "end nil",
            ])
    }

    /// Like NIO's decoder, empty lines before a response are skipped as before a request: some
    /// upstreams send a stray CRLF after a body.
    @Test func emptyLineBeforeAResponseIsSkipped() throws {
        let input = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi\r\nHTTP/1.1 204 No Content\r\n\r\n".utf8)
        #expect(
            Driver(mode: .response).runEveryWay(input) == [
                "head 200 1.1 [Content-Length: 2]", "body hi", "end nil", "head 204 1.1 []", "end nil",
            ])
        #expect(
            try nioResponseSummary(input, methods: [.GET, .GET]) == [
                "head 200 1.1 [Content-Length: 2] keepAlive=true cl=true te=false", "body hi", "end nil",
                "head 204 1.1 [] keepAlive=true cl=false te=false", "end nil",
            ])
    }

    /// What the parser tells the connection handler it may skip: the hygiene checks for a head
    /// with one Host and no underscored names, the lookups of fields the head does not have.
    @Test(arguments: [
        ("Host: a", false, false, false, false),
        ("", true, false, false, false),
        ("Host: a\r\nHost: b", true, false, false, false),
        ("Host: a\r\nX_Y: 1", true, false, false, false),
        ("Host: a\r\nX-Request-ID: r1\r\nExpect: 100-continue\r\nUpgrade: websocket", false, true, true, true),
        ("host: a\r\nx-request-id: r1", false, true, false, false),
    ])
    func requestFactsSayWhatCanBeSkipped(_ fields: String, _ hygiene: Bool, _ requestID: Bool, _ expect: Bool, _ upgrade: Bool) throws {
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\n" + (fields.isEmpty ? "" : fields + "\r\n") + "\r\n")
        guard case .requestHead(_, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(facts.needsHygiene == hygiene)
        #expect(facts.mayHaveRequestID == requestID)
        #expect(facts.mayHaveExpect == expect)
        #expect(facts.mayHaveUpgrade == upgrade)
    }

    // MARK: - Differential tests against NIO's decoders

    @Test func requestsMatchNIOsDecoder() throws {
        var random = SeededRandom(seed: 0x4854_5450_3131)
        for index in 0..<300 {
            let input = Generator.requests(&random)
            let pieces = Generator.pieces(of: input, &random)
            let ours = Driver(mode: .request, eof: true, detailed: true).run(pieces)
            let theirs = try nioRequestSummary(input, detailed: true)
            #expect(ours == theirs, "input \(index): \(show(input))")
            #expect(!ours.contains { $0.hasPrefix("error") }, "input \(index): \(show(input))")
            if ours != theirs { break }
        }
    }

    @Test func responsesMatchNIOsDecoder() throws {
        var random = SeededRandom(seed: 0x4854_5450_3230)
        for index in 0..<300 {
            let (input, methods) = Generator.responses(&random)
            let pieces = Generator.pieces(of: input, &random)
            let ours = Driver(mode: .response, answeringHEAD: methods.map { $0 == .HEAD }, eof: true, detailed: true).run(pieces)
            let theirs = try nioResponseSummary(input, methods: methods)
            #expect(ours == theirs, "input \(index) to \(methods): \(show(input))")
            #expect(!ours.contains { $0.hasPrefix("error") }, "input \(index): \(show(input))")
            if ours != theirs { break }
        }
    }

    @Test func generatorsCoverTheirBuildingBlocks() {
        var random = SeededRandom(seed: 0x4854_5450_3131)
        var requestText = ""
        for _ in 0..<300 { requestText += String(decoding: Generator.requests(&random), as: UTF8.self) }
        for needle in ["Transfer-Encoding: chunked", "Content-Length: ", "HTTP/1.0", "\r\n\r\nPOST", ";a=b", "X-Trailer"] {
            #expect(requestText.contains(needle), "no \(needle)")
        }
        random = SeededRandom(seed: 0x4854_5450_3230)
        var responseText = ""
        for _ in 0..<300 { responseText += String(decoding: Generator.responses(&random).0, as: UTF8.self) }
        for needle in ["HTTP/1.1 100 Continue", "HTTP/1.1 204", "HTTP/1.1 304", "Transfer-Encoding: chunked", "HTTP/1.0 "] {
            #expect(responseText.contains(needle), "no \(needle)")
        }
    }
}

// MARK: - NIO's decoders as the reference

/// What NIO's request decoder makes of `input`, with the facts `RequestHeadFacts.of` reads from its heads.
private func nioRequestSummary(_ input: [UInt8], detailed: Bool = false) throws -> [String] {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder()))
    return nioSummary(channel, input, Summary(detailed: detailed)) { (part: HTTPServerRequestPart, summary) in
        switch part {
        case .head(var head):
            head.headers = trimmingValues(head.headers)
            summary.requestHead(head, facts: RequestHeadFacts.of(head))
        case .body(let body): summary.body(body)
        case .end(let trailers): summary.end(trailers.map(trimmingValues))
        }
    }
}

/// Feeds `input` to a channel holding one of NIO's decoders and summarises the parts that come
/// out (`add`), then the error if there was one.
private func nioSummary<Part>(
    _ channel: EmbeddedChannel, _ input: [UInt8], _ start: Summary, _ add: (Part, inout Summary) -> Void
) -> [String] {
    var summary = start
    func drain() throws {
        while let part = try channel.readInbound(as: Part.self) { add(part, &summary) }
    }
    do {
        try channel.writeInbound(ByteBuffer(bytes: input))
        try drain()
        _ = try channel.finish()
        try drain()
    } catch {
        try? drain()
        summary.note("error " + name(error))
    }
    return summary.finish()
}

/// NIO's decoder (llhttp) keeps whitespace at the end of a field value; RFC 9110 §5.5 excludes
/// it from the value, as `HTTP1Parser` does.
private func trimmingValues(_ headers: HTTPHeaders) -> HTTPHeaders {
    HTTPHeaders(
        headers.map { field in
            var value = Substring(field.value)
            while let last = value.last, last == " " || last == "\t" { value = value.dropLast() }
            return (field.name, String(value))
        })
}

/// What NIO's response decoder makes of `input`, answering requests with `methods`; the facts are
/// read from its heads (`isKeepAlive` and which length fields are present).
private func nioResponseSummary(_ input: [UInt8], methods: [HTTPMethod]) throws -> [String] {
    let channel = EmbeddedChannel(
        handler: ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .forward)))
    for method in methods {
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: "/")))
    }
    return nioSummary(channel, input, Summary(detailed: true)) { (part: HTTPClientResponsePart, summary) in
        switch part {
        case .head(var head):
            head.headers = trimmingValues(head.headers)
            let facts = ResponseHeadFacts(
                keepAlive: head.isKeepAlive, hasContentLength: head.headers.contains(name: "content-length"),
                hasTransferEncoding: head.headers.contains(name: "transfer-encoding"))
            summary.responseHead(head, facts: facts)
        case .body(let body): summary.body(body)
        case .end(let trailers): summary.end(trailers.map(trimmingValues))
        }
    }
}

// MARK: - Generated inputs

/// Valid HTTP/1.1 messages built from blocks both parsers must accept alike.
private enum Generator {
    static func pick<T>(_ choices: [T], _ random: inout SeededRandom) -> T {
        choices[Int.random(in: 0..<choices.count, using: &random)]
    }

    static func chance(_ percent: Int, _ random: inout SeededRandom) -> Bool {
        Int.random(in: 0..<100, using: &random) < percent
    }

    static let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PURGE", "PROPFIND", "MKCOL", "REPORT", "LOCK", "SEARCH"]
    static let targets = [
        "/", "/index.html", "/a/b/c?x=1&y=2", "/search?q=swift+nio", "*", "http://example.com:8080/p?q=1", "/%7Euser/",
        "/path;param=1", "/a/../b/./c", "/q?x=a%20b&y=%E2%82%AC",
    ]
    static let names = [
        "Host", "User-Agent", "Accept", "X-Custom", "x-lower", "X-Dup", "X-Dup", "Cache-Control", "Cookie", "Accept-Encoding",
        "X-Request-Id", "Authorization", "If-None-Match",
    ]
    static let values = [
        "a", "example.com", "text/html, application/json;q=0.9", "v1 v2  v3", "", "tab\tinside", "Mozilla/5.0 (X11; Linux x86_64)",
        "\"quoted\"", "a=b; c=d", "0", "gzip, deflate, br", "Bearer abc.def-ghi_jkl", "W/\"etag\"", "caf\u{E9}",
    ]
    static let leading = ["", "", " ", " ", "  ", "\t"]
    static let trailing = ["", "", "", " ", "\t", " \t "]

    static func fields(_ random: inout SeededRandom) -> String {
        var text = ""
        for _ in 0..<Int.random(in: 0...5, using: &random) {
            let value = pick(values, &random)
            let lead = pick(leading, &random)
            text += pick(names, &random) + ":" + (lead.isEmpty && !value.isEmpty ? " " : lead) + value
            text += value.isEmpty ? "" : pick(trailing, &random)
            text += "\r\n"
        }
        return text
    }

    static func bytes(_ count: Int, _ random: inout SeededRandom) -> [UInt8] {
        if chance(50, &random) {
            return (0..<count).map { _ in UInt8.random(in: 0x20...0x7E, using: &random) }
        }
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    /// A body with its framing field (`Content-Length` or chunked), or none.
    static func body(_ random: inout SeededRandom, allowNone: Bool) -> (field: String, bytes: [UInt8]) {
        switch Int.random(in: 0..<(allowNone ? 3 : 2), using: &random) {
        case 0:
            let body = bytes(Int.random(in: 0...40, using: &random), &random)
            return ("\(pick(["Content-Length", "content-length", "CONTENT-LENGTH"], &random)): \(body.count)\r\n", body)
        case 1:
            var framed: [UInt8] = []
            let body = bytes(Int.random(in: 1...60, using: &random), &random)
            var rest = body[...]
            while !rest.isEmpty {
                let size = Int.random(in: 1...min(rest.count, 20), using: &random)
                var line = String(size, radix: 16, uppercase: chance(50, &random))
                if chance(20, &random) { line = "0" + line }
                if chance(25, &random) { line += pick([";a=b", ";ext", ";a=b;c=d", ";n=\"v\""], &random) }
                framed += Array((line + "\r\n").utf8) + rest.prefix(size) + Array("\r\n".utf8)
                rest = rest.dropFirst(size)
            }
            framed += Array("0\r\n".utf8)
            if chance(30, &random) { framed += Array("X-Trailer: t\r\n".utf8) }
            if chance(15, &random) { framed += Array("X-Sum: abc def\r\n".utf8) }
            framed += Array("\r\n".utf8)
            return ("Transfer-Encoding: \(pick(["chunked", "chunked", "Chunked"], &random))\r\n", framed)
        default:
            return ("", [])
        }
    }

    /// A version and `Connection` field; only the last message may end the connection (NIO's
    /// decoder refuses anything after that).
    static func persistence(last: Bool, _ random: inout SeededRandom) -> (String, String) {
        if chance(20, &random) {
            let connection = last ? pick(["", "close", "keep-alive", "Keep-Alive"], &random) : pick(["keep-alive", "Keep-Alive"], &random)
            return ("HTTP/1.0", connection.isEmpty ? "" : "Connection: \(connection)\r\n")
        }
        let connection = last ? pick(["", "", "close", "Close", "keep-alive"], &random) : pick(["", "", "", "keep-alive"], &random)
        return ("HTTP/1.1", connection.isEmpty ? "" : "Connection: \(connection)\r\n")
    }

    /// One to four pipelined requests.
    static func requests(_ random: inout SeededRandom) -> [UInt8] {
        var input: [UInt8] = []
        let count = Int.random(in: 1...4, using: &random)
        for index in 0..<count {
            let last = index == count - 1
            if chance(10, &random) { input += Array(pick(["\r\n", "\r\n\r\n"], &random).utf8) }
            let (version, connection) = persistence(last: last, &random)
            var head = "\(pick(methods, &random)) \(pick(targets, &random)) \(version)\r\n" + fields(&random) + connection
            let (field, body) = Self.body(&random, allowNone: true)
            head += field + fields(&random) + "\r\n"
            input += Array(head.utf8) + body
        }
        return input
    }

    static let finalStatuses = [
        (200, "OK"), (201, "Created"), (204, "No Content"), (206, "Partial Content"), (301, "Moved Permanently"),
        (304, "Not Modified"), (404, "Not Found"), (500, "Internal Server Error"), (503, ""), (299, "Whatever"),
    ]

    /// One to four pipelined responses, and the methods of the requests they answer.
    static func responses(_ random: inout SeededRandom) -> ([UInt8], [HTTPMethod]) {
        var input: [UInt8] = []
        var methods: [HTTPMethod] = []
        let count = Int.random(in: 1...4, using: &random)
        for index in 0..<count {
            let last = index == count - 1
            let method = chance(15, &random) ? HTTPMethod.HEAD : pick([HTTPMethod.GET, .POST, .PUT, .DELETE], &random)
            methods.append(method)
            if chance(15, &random) {
                input += Array(pick(["HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"], &random).utf8)
            }
            let (code, reason) = pick(finalStatuses, &random)
            let (version, connection) = persistence(last: last, &random)
            var head = "\(version) \(code)" + (reason.isEmpty && chance(50, &random) ? "" : " \(reason)") + "\r\n" + fields(&random) + connection
            var body: [UInt8] = []
            if method == .HEAD || code == 204 || code == 304 {
                // Framing fields without a body.
                if chance(50, &random) { head += "Content-Length: \(Int.random(in: 0...99, using: &random))\r\n" }
            } else if last && chance(25, &random) {
                body = bytes(Int.random(in: 0...30, using: &random), &random)  // until the close
            } else {
                let framed = self.body(&random, allowNone: false)
                head += framed.field
                body = framed.bytes
            }
            head += fields(&random) + "\r\n"
            input += Array(head.utf8) + body
        }
        return (input, methods)
    }

    /// The input cut at random places (sometimes not at all).
    static func pieces(of input: [UInt8], _ random: inout SeededRandom) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var rest = input[...]
        while !rest.isEmpty {
            let size = chance(20, &random) ? rest.count : Int.random(in: 1...min(rest.count, 24), using: &random)
            pieces.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return pieces
    }
}
