#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif
import NIOCore
import NIOHTTP1

/// An incremental HTTP/1.x parser (RFC 9112) for one direction of a connection: requests from a
/// client, or responses from an upstream. Pure: bytes in, message parts out, no channel.
///
/// Strict where leniency lets two parsers disagree about where a message ends (request
/// smuggling): lines end with CRLF, no whitespace before a header's colon, no folded lines, no
/// control characters in values, chunk sizes are hex digits that fit, and a response never
/// carries both `Content-Length` and `Transfer-Encoding`. Errors are NIO's `HTTPParserError`
/// values, which the handlers above already map to a 400 or to an upstream protocol failure.
///
/// Heads are parsed once complete (the caller keeps unconsumed bytes and offers them again with
/// more); body bytes are handed on as slices of the input as soon as they arrive.
struct HTTP1Parser {
    enum Mode { case request, response }

    enum Part {
        /// A request head, with its body framing as the gateway reads it or why it cannot be read
        /// (then nothing after the head is parsed: the connection is refused and closed).
        case requestHead(HTTPRequestHead, RequestHeadFacts)
        case responseHead(UpstreamResponseHead, ResponseHeadFacts)
        case body(ByteBuffer)
        case end(HTTPHeaders?)
    }

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case endPending
        /// After an upgrade (or a refused request): the rest of the input is not HTTP.
        case stopped
    }

    let mode: Mode
    /// The largest head (start line and fields) or trailer section accepted.
    let maxHeadBytes: Int
    /// Response mode: the request being answered is a `HEAD` (its response has no body). Set
    /// before each request is sent; cleared by the final response head.
    var answeringHEAD = false

    private var state = State.head
    /// How many bytes of the current head, trailer section or chunk line were already searched
    /// for its end, so a head arriving in pieces is scanned once.
    private var scanned = 0
    private var stopAfterMessage = false
    /// The field list of the last head, kept for the next one: once that head is gone (its
    /// exchange ended), the next head's fields reuse the storage in place instead of allocating.
    private var spareFields: [RawHead.Field] = []

    /// The longest chunk-size line (size and extensions) accepted.
    static let maxChunkLineBytes = 4096

    init(mode: Mode, maxHeadBytes: Int) {
        self.mode = mode
        self.maxHeadBytes = maxHeadBytes
    }

    /// Nothing more will be parsed: the connection was upgraded or its request refused.
    var isStopped: Bool {
        if case .stopped = state { return true }
        return false
    }

    /// An upgrade (or CONNECT) message ended: the bytes after it belong to another protocol.
    private(set) var isUpgraded = false

    /// The next part from `buffer` (consuming its bytes), or `nil` when more input is needed.
    mutating func next(_ buffer: inout ByteBuffer) throws -> Part? {
        switch state {
        case .head:
            return try nextHead(&buffer)
        case .fixedBody(let remaining):
            return bodyPart(&buffer, remaining, then: .endPending) { .fixedBody(remaining: $0) }
        case .chunkSize:
            return try nextChunkSize(&buffer)
        case .chunkData(let remaining):
            return bodyPart(&buffer, remaining, then: .chunkDataEnd) { .chunkData(remaining: $0) }
        case .chunkDataEnd:
            guard buffer.readableBytes >= 2 else { return nil }
            guard buffer.readInteger(as: UInt16.self) == Self.crlf else { throw HTTPParserError.invalidChunkSize }
            state = .chunkSize
            return try nextChunkSize(&buffer)
        case .trailers:
            return try nextTrailers(&buffer)
        case .untilClose:
            guard buffer.readableBytes > 0 else { return nil }
            return .body(buffer.readSlice(length: buffer.readableBytes)!)
        case .endPending:
            return endMessage(trailers: nil)
        case .stopped:
            return nil
        }
    }

    /// Up to `remaining` body bytes that have arrived; the state becomes `then` once all of them
    /// did, `rest(bytesStillToCome)` before.
    private mutating func bodyPart(_ buffer: inout ByteBuffer, _ remaining: Int, then: State, rest: (Int) -> State) -> Part? {
        guard buffer.readableBytes > 0 else { return nil }
        let length = min(remaining, buffer.readableBytes)
        state = length == remaining ? then : rest(remaining - length)
        return .body(buffer.readSlice(length: length)!)
    }

    /// The input ended. A response read until the close ends here; anything else cut short is
    /// an error. `hasLeftover`: unparsed bytes of a head were kept by the caller.
    mutating func endOfInput(hasLeftover: Bool) throws -> Part? {
        switch state {
        case .head:
            if hasLeftover || scanned > 0 { throw HTTPParserError.invalidEOFState }
            return nil
        case .untilClose:
            return endMessage(trailers: nil)
        case .endPending:
            return endMessage(trailers: nil)
        case .stopped:
            return nil
        case .fixedBody, .chunkSize, .chunkData, .chunkDataEnd, .trailers:
            throw HTTPParserError.invalidEOFState
        }
    }

    // MARK: heads

    private static let crlf = UInt16(0x0D0A)

    private mutating func nextHead(_ buffer: inout ByteBuffer) throws -> Part? {
        guard buffer.readableBytes > 0 else { return nil }  // as after every message read whole
        if scanned == 0 {
            // A client may send an empty line before a request (RFC 9112 §2.2); some servers
            // send one after a response's body.
            while buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == Self.crlf {
                buffer.moveReaderIndex(forwardBy: 2)
            }
        }
        if scanned == 0, let (part, length) = try? parseHead(in: buffer, region: min(buffer.readableBytes, maxHeadBytes)) {
            // The usual case: the whole head had arrived, and was parsed in one pass as it was
            // found. A head not complete yet, or refused, is looked at again as below: its end
            // found first (scanning what arrives once), then its lines, and an error is reported
            // as a head of exactly that size explains it.
            buffer.moveReaderIndex(forwardBy: length)
            return part
        }
        guard let length = try sectionLength(buffer, mayBeEmpty: false) else { return nil }
        let parsed: (Part, Int)?
        do {
            parsed = try parseHead(in: buffer, region: length)
        } catch {
            throw buffer.withUnsafeReadableBytes { ByteRegion($0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length) }
                .bareCRExplains(error)
        }
        guard let (part, _) = parsed else { throw HTTPParserError.invalidInternalState }  // the region holds the head
        buffer.moveReaderIndex(forwardBy: length)
        return part
    }

    /// The head at the start of `buffer`, looked for in its first `region` bytes, and its length;
    /// `nil` when the region ends before the head's empty line.
    private mutating func parseHead(in buffer: ByteBuffer, region: Int) throws -> (Part, Int)? {
        guard region > 0 else { return nil }
        return try buffer.withUnsafeReadableBytes { bytes throws -> (Part, Int)? in
            let head = ByteRegion(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: region)
            return mode == .request ? try parseRequestHead(head, in: buffer) : try parseResponseHead(head, in: buffer)
        }
    }

    /// The length of the head (or trailer section) at the start of `buffer` up to and including
    /// its empty line, or `nil` when that line has not arrived yet.
    private mutating func sectionLength(_ buffer: ByteBuffer, mayBeEmpty: Bool) throws -> Int? {
        let from = scanned
        let found = buffer.withUnsafeReadableBytes { raw -> Int? in
            guard let start = raw.baseAddress else { return nil }
            let bytes = ByteRegion(start.assumingMemoryBound(to: UInt8.self), count: raw.count)
            var index = from
            // The empty line: CRLF right after a CRLF (or at the very start, for trailers).
            while let lf = bytes.firstLF(from: index) {
                guard lf >= 1 && bytes[lf - 1] == 0x0D else { return -1 }  // a bare LF: refused at once
                if lf == 1 && mayBeEmpty { return 2 }
                if lf >= 3 && bytes[lf - 2] == 0x0A && bytes[lf - 3] == 0x0D { return lf + 1 }
                index = lf + 1
            }
            return nil
        }
        if let found {
            guard found > 0 else { throw HTTPParserError.lfExpected }
            scanned = 0
            guard found <= maxHeadBytes else { throw HTTPParserError.headerOverflow }
            return found
        }
        scanned = max(buffer.readableBytes - 3, 0)
        if buffer.readableBytes > maxHeadBytes { throw HTTPParserError.headerOverflow }
        return nil
    }

    private mutating func parseRequestHead(_ bytes: ByteRegion, in buffer: ByteBuffer) throws -> (Part, Int)? {
        var lines = LineReader(bytes)
        guard let line = try lines.next() else { return nil }
        guard let methodEnd = bytes.first(of: 0x20, in: line), methodEnd > line.lowerBound else { throw HTTPParserError.invalidMethod }
        let methodRange = line.lowerBound..<methodEnd
        guard bytes.all(in: methodRange, Self.isTokenByte) else { throw HTTPParserError.invalidMethod }
        guard let targetEnd = bytes.first(of: 0x20, in: (methodEnd + 1)..<line.upperBound), targetEnd > methodEnd + 1 else {
            throw HTTPParserError.invalidURL
        }
        let targetRange = (methodEnd + 1)..<targetEnd
        guard bytes.allAtLeast(0x21, noDEL: targetRange, tabs: false) else { throw HTTPParserError.invalidURL }
        let version = try Self.version(bytes, (targetEnd + 1)..<line.upperBound)

        var facts = FieldFacts()
        var underscore = false
        var rawFields = takeFieldList()
        let complete = try Self.fields(bytes, &lines, facts: &facts) { name, value, kind in
            // The names the parser knows have no underscore: only others are looked at.
            if !underscore && kind == .other { underscore = bytes.first(of: UInt8(ascii: "_"), in: name) != nil }
            rawFields.append(RawHead.Field(name: name, value: value, kind: kind))
        }
        guard complete else {
            keepFieldList(rawFields)
            return nil
        }
        // The fields become Strings only when something will read them: hygiene, framing,
        // the fields the exchange looks up, a Connection naming others. Otherwise the head's
        // `headers` stay empty and the fields are only in `RequestHeadFacts.raw`, from which
        // the upstream head is written (or `RawHead.headers` makes them when needed).
        let needsStrings =
            facts.hosts != 1 || underscore || facts.contentLength || facts.transferEncoding || facts.requestID || facts.expect
            || facts.upgrade || facts.connectionNamesOthers
        var headers = HTTPHeaders()
        if needsStrings {
            var fields: [(String, String)] = []
            fields.reserveCapacity(rawFields.count)
            for field in rawFields {
                fields.append((bytes.string(Int(field.nameStart)..<Int(field.nameEnd)), bytes.string(Int(field.valueStart)..<Int(field.valueEnd))))
            }
            headers = HTTPHeaders(fields)
        }
        let method = Self.method(bytes, methodRange)
        let head = HTTPRequestHead(version: version, method: method, uri: bytes.string(targetRange), headers: headers)

        // A CONNECT request has no content (RFC 9110 §9.3.6): what follows its head is the tunnel's.
        let framing = (facts.contentLength || facts.transferEncoding) && !method.isCONNECT ? RequestFraming.of(head) : .success(.none)
        stopAfterMessage = method.isCONNECT || (facts.upgrade && facts.connectionUpgrade)
        switch framing {
        case .failure:
            state = .stopped
        case .success(.none):
            state = .endPending
        case .success(.contentLength(let length)):
            state = .fixedBody(remaining: length)
        case .success(.chunked):
            state = .chunkSize
        }
        var requestFacts = RequestHeadFacts(framing: framing, keepAlive: facts.keepAlive(version) && !stopAfterMessage)
        requestFacts.needsHygiene = facts.hosts != 1 || underscore
        requestFacts.mayHaveRequestID = facts.requestID
        requestFacts.mayHaveExpect = facts.expect
        requestFacts.mayHaveUpgrade = facts.upgrade
        requestFacts.connectionNamesOthers = facts.connectionNamesOthers
        requestFacts.raw = RawHead(bytes: buffer.getSlice(at: buffer.readerIndex, length: lines.consumed)!, fields: rawFields)
        keepFieldList(rawFields)
        return (.requestHead(head, requestFacts), lines.consumed)
    }

    private mutating func parseResponseHead(_ bytes: ByteRegion, in buffer: ByteBuffer) throws -> (Part, Int)? {
        var lines = LineReader(bytes)
        guard let line = try lines.next() else { return nil }
        let at = line.lowerBound
        guard line.count >= 12, bytes[at + 8] == 0x20 else { throw HTTPParserError.invalidStatus }
        let version = try Self.version(bytes, at..<(at + 8))
        var code = 0
        for index in (at + 9)..<(at + 12) {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else { throw HTTPParserError.invalidStatus }
            code = code * 10 + Int(digit)
        }
        guard code >= 100 else { throw HTTPParserError.invalidStatus }
        // The reason phrase is not kept (NIO's decoder did not keep it either).
        if line.count > 12 {
            guard bytes[at + 12] == 0x20, bytes.allAtLeast(0x20, noDEL: (at + 13)..<line.upperBound, tabs: true) else {
                throw HTTPParserError.invalidStatus
            }
        }

        var facts = FieldFacts()
        var fields = takeFieldList()
        let complete = try Self.fields(bytes, &lines, facts: &facts) { name, value, kind in
            fields.append(RawHead.Field(name: name, value: value, kind: kind))
        }
        keepFieldList(fields)
        guard complete else { return nil }
        let head = UpstreamResponseHead(
            version: version, status: HTTPResponseStatus(statusCode: code),
            raw: RawHead(bytes: buffer.getSlice(at: buffer.readerIndex, length: lines.consumed)!, fields: fields))
        let responseFacts = ResponseHeadFacts(
            keepAlive: facts.keepAlive(version), hasContentLength: facts.contentLength, hasTransferEncoding: facts.transferEncoding,
            transferEncodingIsChunked: facts.transferCodings == 1 && facts.chunkedLast, hasLocation: facts.location,
            connectionNamesOthers: facts.connectionNamesOthers)

        if code < 200 && code != 101 {
            return (.responseHead(head, responseFacts), lines.consumed)  // informational: a final head follows
        }
        let bodiless = answeringHEAD || code == 204 || code == 304 || code == 101
        answeringHEAD = false
        stopAfterMessage = code == 101
        if bodiless {
            state = .endPending
        } else if facts.transferEncoding {
            guard !facts.contentLength else { throw HTTPParserError.unexpectedContentLength }
            state = facts.chunkedLast ? .chunkSize : .untilClose
        } else if facts.contentLength {
            guard let length = facts.length, !facts.lengthInvalid else { throw HTTPParserError.invalidContentLength }
            state = length == 0 ? .endPending : .fixedBody(remaining: length)
        } else {
            state = .untilClose
        }
        return (.responseHead(head, responseFacts), lines.consumed)
    }

    /// An empty field list for a new head: the spare one, emptied in place when no earlier head
    /// still holds it (a copy otherwise, as a new list would be).
    private mutating func takeFieldList() -> [RawHead.Field] {
        var fields = spareFields
        spareFields = []
        fields.removeAll(keepingCapacity: true)
        if fields.capacity < 16 { fields.reserveCapacity(16) }
        return fields
    }

    /// Keeps a head's field list for the next head, unless it grew large.
    private mutating func keepFieldList(_ fields: [RawHead.Field]) {
        if fields.capacity <= 64 { spareFields = fields }
    }

    private static func version(_ bytes: ByteRegion, _ range: Range<Int>) throws -> HTTPVersion {
        // "HTTP/1.1": the major version must be 1; minor versions above 1 are read as 1.1's.
        let at = range.lowerBound
        guard range.count == 8, bytes[at] == 0x48, bytes[at + 1] == 0x54, bytes[at + 2] == 0x54, bytes[at + 3] == 0x50,
            bytes[at + 4] == 0x2F, bytes[at + 6] == 0x2E
        else { throw HTTPParserError.invalidVersion }
        let major = bytes[at + 5] &- 0x30
        let minor = bytes[at + 7] &- 0x30
        guard major == 1, minor < 10 else { throw HTTPParserError.invalidVersion }
        return minor == 1 ? .http1_1 : (minor == 0 ? .http1_0 : HTTPVersion(major: 1, minor: Int(minor)))
    }

    private static func method(_ bytes: ByteRegion, _ range: Range<Int>) -> HTTPMethod {
        let at = range.lowerBound
        switch range.count {
        case 3:
            if bytes[at] == 0x47 && bytes[at + 1] == 0x45 && bytes[at + 2] == 0x54 { return .GET }
            if bytes[at] == 0x50 && bytes[at + 1] == 0x55 && bytes[at + 2] == 0x54 { return .PUT }
        case 4:
            if bytes[at] == 0x50 && bytes[at + 1] == 0x4F && bytes[at + 2] == 0x53 && bytes[at + 3] == 0x54 { return .POST }
            if bytes[at] == 0x48 && bytes[at + 1] == 0x45 && bytes[at + 2] == 0x41 && bytes[at + 3] == 0x44 { return .HEAD }
        default:
            break
        }
        return HTTPMethod(rawValue: bytes.string(range))
    }

    // MARK: fields

    /// What the framing, persistence and upgrade decisions need from a head's fields, gathered
    /// on bytes while they are read (asking the finished `HTTPHeaders` costs a scan per question).
    private struct FieldFacts {
        var contentLength = false
        var transferEncoding = false
        /// The last transfer coding named is `chunked`.
        var chunkedLast = false
        /// Transfer codings named, empty list elements aside.
        var transferCodings = 0
        var connectionClose = false
        var connectionKeepAlive = false
        var connectionUpgrade = false
        /// `Connection` lists a header name (to be removed along with it).
        var connectionNamesOthers = false
        var upgrade = false
        var location = false
        var hosts = 0
        var requestID = false
        var expect = false
        /// The `Content-Length` (every value and list element the same digits), when valid.
        var length: Int?
        var lengthInvalid = false

        /// RFC 9112 §9.3: `close` ends the connection; HTTP/1.0 persists only on `keep-alive`.
        func keepAlive(_ version: HTTPVersion) -> Bool {
            if connectionClose { return false }
            return version.minor >= 1 || connectionKeepAlive
        }

        mutating func note(_ kind: HeaderName, name: Range<Int>, value: Range<Int>, in bytes: ByteRegion) {
            switch kind {
            case .contentLength:
                contentLength = true
                bytes.forEachListElement(in: value) { element in
                    guard let parsed = bytes.decimal(element), length == nil || length == parsed else { return lengthInvalid = true }
                    length = parsed
                }
            case .transferEncoding:
                transferEncoding = true
                bytes.forEachListElement(in: value) { coding in
                    chunkedLast = bytes.equalsIgnoringCase(coding, "chunked")
                    if !coding.isEmpty { transferCodings += 1 }
                }
            case .connection:
                bytes.forEachListElement(in: value) { token in
                    if bytes.equalsIgnoringCase(token, "close") {
                        connectionClose = true
                    } else if bytes.equalsIgnoringCase(token, "keep-alive") {
                        connectionKeepAlive = true
                    } else if bytes.equalsIgnoringCase(token, "upgrade") {
                        connectionUpgrade = true
                    } else if !token.isEmpty {
                        connectionNamesOthers = true
                    }
                }
            case .otherHopByHop where bytes.equalsIgnoringCase(name, "upgrade"):
                upgrade = true
            case .location:
                location = true
            case .host:
                hosts += 1
            case .xRequestID:
                requestID = true
            case .expect:
                expect = true
            default:
                break
            }
        }
    }

    /// The fields as NIO's type (a String for each name and value).
    private static func headers(_ bytes: ByteRegion, _ lines: inout LineReader, facts: inout FieldFacts) throws -> HTTPHeaders {
        var fields: [(String, String)] = []
        _ = try Self.fields(bytes, &lines, facts: &facts) { name, value, _ in
            if fields.isEmpty { fields.reserveCapacity(16) }
            fields.append((bytes.string(name), bytes.string(value)))
        }
        return HTTPHeaders(fields)
    }

    /// Reads field lines up to the empty one, checking each and noting what `facts` gathers;
    /// `field` gets each name and (trimmed) value range and the name's kind. `false` when the
    /// bytes end before the empty line.
    private static func fields(
        _ bytes: ByteRegion, _ lines: inout LineReader, facts: inout FieldFacts,
        _ field: (Range<Int>, Range<Int>, HeaderName) -> Void
    ) throws -> Bool {
        while true {
            guard let line = try lines.next() else { return false }
            if line.isEmpty { return true }
            // A token, then the colon: also refuses a folded line (leading whitespace) and
            // whitespace before the colon.
            var colon = line.lowerBound
            while colon < line.upperBound && isTokenByte(bytes[colon]) { colon += 1 }
            guard colon > line.lowerBound, colon < line.upperBound, bytes[colon] == 0x3A else { throw HTTPParserError.invalidHeaderToken }
            let name = line.lowerBound..<colon
            let value = bytes.trimmingWhitespace((colon + 1)..<line.upperBound)
            // Visible characters, space, tab and obs-text; never another control character.
            guard bytes.allAtLeast(0x20, noDEL: value, tabs: true) else { throw HTTPParserError.invalidHeaderToken }
            let kind = HeaderName.classify(UnsafeBufferPointer(start: bytes.start + name.lowerBound, count: name.count))
            if kind != .other { facts.note(kind, name: name, value: value, in: bytes) }
            field(name, value, kind)
        }
    }

    /// `tchar` (RFC 9110 §5.6.2): one load per byte, where tests on a bit set took twice the
    /// instructions (field names are most of the bytes a head's checks look at one by one).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        tokenTable.utf8Start[Int(byte)] == UInt8(ascii: "1")
    }

    /// "1" at the offset of every `tchar`: ``!#$%&'*+-.^_`|~``, digits and letters.
    private static var tokenTable: StaticString {
        """
        0000000000000000000000000000000001011111001101101111111111000000\
        0111111111111111111111111110001111111111111111111111111111101010\
        0000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000
        """
    }

    /// Visible characters, space, tab and obs-text; never another control character.
    private static func isFieldValueByte(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == 0x09
    }

    // MARK: chunks and trailers

    private mutating func nextChunkSize(_ buffer: inout ByteBuffer) throws -> Part? {
        let from = scanned
        let lineEnd = buffer.withUnsafeReadableBytes { raw -> Int? in
            guard let start = raw.baseAddress else { return nil }
            return ByteRegion(start.assumingMemoryBound(to: UInt8.self), count: raw.count).firstLF(from: from)
        }
        guard let lineEnd else {
            if buffer.readableBytes > Self.maxChunkLineBytes { throw HTTPParserError.invalidChunkSize }
            scanned = buffer.readableBytes
            return nil
        }
        scanned = 0
        guard lineEnd < Self.maxChunkLineBytes else { throw HTTPParserError.invalidChunkSize }
        let size = try buffer.withUnsafeReadableBytes { raw throws -> Int in
            let bytes = ByteRegion(raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: raw.count)
            guard lineEnd >= 1, bytes[lineEnd - 1] == 0x0D else { throw HTTPParserError.lfExpected }
            return try Self.chunkSize(bytes, 0..<(lineEnd - 1))
        }
        buffer.moveReaderIndex(forwardBy: lineEnd + 1)
        if size == 0 {
            state = .trailers
            return try nextTrailers(&buffer)
        }
        state = .chunkData(remaining: size)
        return try next(&buffer)
    }

    /// `chunk-size [ chunk-ext ]`: hex digits that fit in an `Int`, then optional extensions.
    private static func chunkSize(_ bytes: ByteRegion, _ line: Range<Int>) throws -> Int {
        var size = 0
        var index = line.lowerBound
        while index < line.upperBound, let digit = hexValue(bytes[index]) {
            guard index - line.lowerBound < 15 else { throw HTTPParserError.invalidChunkSize }
            size = size << 4 | digit
            index += 1
        }
        guard index > line.lowerBound else { throw HTTPParserError.invalidChunkSize }
        guard index < line.upperBound else { return size }
        // Extensions, after optional whitespace; whitespace alone is refused.
        while index < line.upperBound && (bytes[index] == 0x20 || bytes[index] == 0x09) { index += 1 }
        guard index < line.upperBound, bytes[index] == 0x3B, bytes.all(in: (index + 1)..<line.upperBound, isFieldValueByte) else {
            throw HTTPParserError.invalidChunkSize
        }
        return size
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }

    private mutating func nextTrailers(_ buffer: inout ByteBuffer) throws -> Part? {
        guard let length = try sectionLength(buffer, mayBeEmpty: true) else { return nil }
        let trailers = try buffer.withUnsafeReadableBytes { raw throws -> HTTPHeaders? in
            guard length > 2 else { return nil }
            let bytes = ByteRegion(raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length)
            var lines = LineReader(bytes)
            var facts = FieldFacts()
            do {
                return try Self.headers(bytes, &lines, facts: &facts)
            } catch {
                throw bytes.bareCRExplains(error)
            }
        }
        buffer.moveReaderIndex(forwardBy: length)
        return endMessage(trailers: trailers)
    }

    private mutating func endMessage(trailers: HTTPHeaders?) -> Part {
        state = stopAfterMessage ? .stopped : .head
        isUpgraded = stopAfterMessage
        stopAfterMessage = false
        return .end(trailers)
    }
}

/// What the gateway needs from a response head besides its fields, read while parsing them.
struct ResponseHeadFacts {
    /// The upstream keeps the connection open after this response (RFC 9112 §9.3).
    var keepAlive: Bool
    var hasContentLength: Bool
    var hasTransferEncoding: Bool
    /// `Transfer-Encoding` names `chunked` and nothing else (any other coding could not be passed on).
    var transferEncodingIsChunked = false
    var hasLocation = false
    /// A `Connection` field lists other fields (hop-by-hop by that mention).
    var connectionNamesOthers = false
}

/// A region of parsed bytes, addressed by offsets. No bounds checks: every offset handed to it
/// comes from a search within `count`.
struct ByteRegion {
    let start: UnsafePointer<UInt8>
    let count: Int

    init(_ start: UnsafePointer<UInt8>, count: Int) {
        self.start = start
        self.count = count
    }

    subscript(_ index: Int) -> UInt8 { start[index] }

    /// The offset of the next LF at or after `index`.
    func firstLF(from index: Int) -> Int? {
        guard index < count, let hit = memchr(start + index, 0x0A, count - index) else { return nil }
        return start.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    func first(of byte: UInt8, in range: Range<Int>) -> Int? {
        guard !range.isEmpty, let hit = memchr(start + range.lowerBound, Int32(byte), range.count) else { return nil }
        return start.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    func all(in range: Range<Int>, _ predicate: (UInt8) -> Bool) -> Bool {
        var index = range.lowerBound
        while index < range.upperBound {
            guard predicate(start[index]) else { return false }
            index += 1
        }
        return true
    }

    /// Whether every byte in `range` is at least `lowest` and none is DEL (0x7F), except that
    /// `tabs` lets HTAB through too. Eight bytes at a time: a word with no byte below `lowest`
    /// and no DEL passes without a look at each byte (`lowest` at most 0x80), and a range of
    /// eight bytes or more ends with its last eight as one word. The first word that may hold
    /// such a byte, and a shorter range, are looked at byte by byte.
    func allAtLeast(_ lowest: UInt8, noDEL range: Range<Int>, tabs: Bool) -> Bool {
        var index = range.lowerBound
        if range.count >= 8 {
            while index + 8 <= range.upperBound {
                guard wordAtLeast(lowest, noDELAt: index) else { break }
                index += 8
            }
            if index + 8 > range.upperBound && (index == range.upperBound || wordAtLeast(lowest, noDELAt: range.upperBound - 8)) {
                return true
            }
        }
        while index < range.upperBound {
            let byte = start[index]
            guard (byte >= lowest && byte != 0x7F) || (tabs && byte == 0x09) else { return false }
            index += 1
        }
        return true
    }

    /// The eight bytes at `index` hold none below `lowest` (at most 0x80) and no DEL.
    private func wordAtLeast(_ lowest: UInt8, noDELAt index: Int) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let word = UnsafeRawPointer(start + index).loadUnaligned(as: UInt64.self)
        let below = (word &- ones &* UInt64(lowest)) & ~word & highs
        let del = word ^ (ones &* 0x7F)
        return below | ((del &- ones) & ~del & highs) == 0
    }

    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    func trimmingWhitespace(_ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && (start[lower] == 0x20 || start[lower] == 0x09) { lower += 1 }
        while upper > lower && (start[upper - 1] == 0x20 || start[upper - 1] == 0x09) { upper -= 1 }
        return lower..<upper
    }

    /// Calls `body` with each element of a comma-separated list, trimmed (empty ones included).
    func forEachListElement(in range: Range<Int>, _ body: (Range<Int>) -> Void) {
        var elementStart = range.lowerBound
        while let comma = first(of: 0x2C, in: elementStart..<range.upperBound) {
            body(trimmingWhitespace(elementStart..<comma))
            elementStart = comma + 1
        }
        body(trimmingWhitespace(elementStart..<range.upperBound))
    }

    /// A non-negative decimal number of at most 18 digits.
    func decimal(_ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value = 0
        for index in range {
            let digit = start[index] &- 0x30
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }

    func equalsIgnoringCase(_ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        HopByHopHeaders.equalsIgnoringCase(UnsafeBufferPointer(start: start + range.lowerBound, count: range.count), lowercase)
    }

    /// `lfExpected` when the region holds a CR not followed by an LF (the reason a line was
    /// refused), else `error` as it is.
    func bareCRExplains(_ error: any Error) -> any Error {
        var index = 0
        while let cr = first(of: 0x0D, in: index..<count) {
            if cr + 1 == count || start[cr + 1] != 0x0A { return HTTPParserError.lfExpected }
            index = cr + 1
        }
        return error
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(start: start + range.lowerBound, count: range.count), as: UTF8.self)
    }
}

/// The lines of a complete head, as ranges without their CRLF; a bare LF is an error.
///
/// A bare CR inside a line is not looked for here (a second scan of every line): every byte of
/// every line is checked by what reads it (a token, a target, a version, a field value), and
/// none accepts a CR. When such a check fails, ``ByteRegion/bareCRExplains(_:)`` reports the
/// bare CR as the error, as a scan would have.
private struct LineReader {
    private let bytes: ByteRegion
    private var position = 0

    init(_ bytes: ByteRegion) {
        self.bytes = bytes
    }

    /// Bytes read so far: the lines returned and their CRLFs.
    var consumed: Int { position }

    mutating func next() throws -> Range<Int>? {
        guard position < bytes.count, let lf = bytes.firstLF(from: position) else { return nil }
        guard lf > position, bytes[lf - 1] == 0x0D else {
            throw HTTPParserError.lfExpected
        }
        let line = position..<(lf - 1)
        position = lf + 1
        return line
    }
}
