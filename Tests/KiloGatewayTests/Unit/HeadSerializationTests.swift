import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import KiloGateway

@Suite struct HeadSerializationTests {
    @Test(arguments: [
        ("Host", HeaderName.host), ("HOST", .host), ("content-LENGTH", .contentLength), ("Transfer-Encoding", .transferEncoding),
        ("Connection", .connection), ("Keep-Alive", .otherHopByHop), ("TE", .otherHopByHop), ("Proxy-Connection", .otherHopByHop),
        ("X-Forwarded-For", .xForwardedFor), ("x-forwarded-proto", .xForwardedProto), ("X-Forwarded-Host", .xForwardedHost),
        ("X-Request-Id", .xRequestID), ("Expect", .expect), ("Location", .location),
        ("Hosts", .other), ("Date", .other), ("Content-Type", .other), ("Te", .otherHopByHop), ("Tea", .other), ("", .other),
    ])
    func headerNamesAreRecognisedIgnoringCase(name: String, expected: HeaderName) {
        #expect(HeaderName(name) == expected)
    }

    /// Every name the gateway knows, with each of its bytes replaced by every byte value in turn:
    /// recognised exactly when the replacement is that byte in either case.
    @Test func headerNamesDifferingInOneByteAreNotRecognised() {
        let known: [(String, HeaderName)] = [
            ("te", .otherHopByHop), ("host", .host), ("expect", .expect), ("trailer", .otherHopByHop), ("upgrade", .otherHopByHop),
            ("location", .location), ("connection", .connection), ("keep-alive", .otherHopByHop), ("x-request-id", .xRequestID),
            ("content-length", .contentLength), ("x-forwarded-for", .xForwardedFor), ("x-forwarded-host", .xForwardedHost),
            ("proxy-connection", .otherHopByHop), ("transfer-encoding", .transferEncoding), ("x-forwarded-proto", .xForwardedProto),
            ("proxy-authorization", .otherHopByHop),
        ]
        for (name, kind) in known {
            let bytes = Array(name.utf8)
            for position in bytes.indices {
                for value in UInt8.min...UInt8.max {
                    var changed = bytes
                    changed[position] = value
                    let same = value == bytes[position] || (bytes[position] >= 0x61 && bytes[position] <= 0x7A && value == bytes[position] - 0x20)
                    let found = changed.withUnsafeBufferPointer { HeaderName.classify($0) }
                    #expect((found == kind) == same, "\(name) with byte \(value) at \(position)")
                }
            }
        }
    }

    @Test func loweringAWordTouchesOnlyCapitalLetters() {
        for value in UInt8.min...UInt8.max {
            let expected = value >= 0x41 && value <= 0x5A ? value | 0x20 : value
            for position in 0..<8 {
                let word = UInt64(value) << (8 * position) | (position == 0 ? 0 : 0x4D)
                let lowered = HeaderName.lowered(word)
                #expect(UInt8(truncatingIfNeeded: lowered >> (8 * position)) == expected, "byte \(value) at \(position)")
                if position > 0 { #expect(UInt8(truncatingIfNeeded: lowered) == 0x6D) }
            }
        }
    }

    @Test func requestHeadIsWrittenAsHTTP11() {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/a/b?c=d%20e")
        head.headers.add(name: "Host", value: "kilo-meds:9000")
        head.headers.add(name: "X-Long", value: String(repeating: "v", count: 300))
        head.headers.add(name: "content-length", value: "3")
        var buffer = ByteBuffer()
        buffer.writeRequestHead(head)
        #expect(
            String(buffer: buffer)
                == "POST /a/b?c=d%20e HTTP/1.1\r\nHost: kilo-meds:9000\r\nX-Long: \(String(repeating: "v", count: 300))\r\n"
                + "content-length: 3\r\n\r\n")
    }

    @Test func chunkedBodiesAreFramedAndEmptyPartsSkipped() throws {
        let channel = EmbeddedChannel(handler: UpstreamRequestEncoder(sendsItself: false))
        var head = HTTPRequestHead(version: .http1_1, method: .PUT, uri: "/u")
        head.headers.add(name: "transfer-encoding", value: "chunked")
        try channel.writeOutbound(HTTPClientRequestPart.head(head))
        try channel.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: String(repeating: "x", count: 26)))))
        try channel.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer())))
        var trailers = HTTPHeaders()
        trailers.add(name: "X-Sum", value: "1")
        try channel.writeOutbound(HTTPClientRequestPart.end(trailers))
        var wire = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { wire += String(buffer: buffer) }
        }
        #expect(wire == "PUT /u HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n1a\r\n\(String(repeating: "x", count: 26))\r\n0\r\nX-Sum: 1\r\n\r\n")
        _ = try channel.finish()
    }

    @Test func sizedBodiesPassAsTheyAre() throws {
        let channel = EmbeddedChannel(handler: UpstreamRequestEncoder(sendsItself: false))
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/p")
        head.headers.add(name: "content-length", value: "2")
        try channel.writeOutbound(HTTPClientRequestPart.head(head))
        try channel.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: "ok"))))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        var wire = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { wire += String(buffer: buffer) }
        }
        #expect(wire == "POST /p HTTP/1.1\r\ncontent-length: 2\r\n\r\nok")
        _ = try channel.finish()
    }

    // MARK: responses to clients

    private func wire(_ parts: [HTTPServerResponsePart], answeringHEAD: Bool = false) throws -> String {
        let encoder = ClientResponseEncoder(sendsItself: false)
        let channel = EmbeddedChannel(handler: encoder)
        defer { _ = try? channel.finish() }
        encoder.answeringHEAD = answeringHEAD
        for part in parts { try channel.writeOutbound(part) }
        var text = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { text += String(buffer: buffer) }
        }
        return text
    }

    private func head(_ status: HTTPResponseStatus, _ headers: [(String, String)], version: HTTPVersion = .http1_1) -> HTTPServerResponsePart {
        .head(HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(headers)))
    }

    private static let body = HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "hello")))

    @Test func sizedResponsesPassAsTheyAreAndLoseATransferCoding() throws {
        let text = try wire([head(.ok, [("Content-Length", "5"), ("Transfer-Encoding", "chunked")]), Self.body, .end(nil)])
        #expect(text == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    }

    @Test func unsizedResponsesAreChunkedForHTTP11AndCloseDelimitedForHTTP10() throws {
        let chunked = try wire([head(.ok, [("X", "1")]), Self.body, .end(nil)])
        #expect(chunked == "HTTP/1.1 200 OK\r\nX: 1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        let old = try wire([head(.ok, [], version: .http1_0), Self.body, .end(nil)])
        #expect(old == "HTTP/1.0 200 OK\r\n\r\nhello")
    }

    @Test func responsesThatCannotHaveABodyLoseTheirFraming() throws {
        let text = try wire([head(.noContent, [("Content-Length", "0"), ("Transfer-Encoding", "chunked"), ("X", "1")]), .end(nil)])
        #expect(text == "HTTP/1.1 204 No Content\r\nX: 1\r\n\r\n")
        let custom = try wire([head(.custom(code: 599, reasonPhrase: "Odd"), [("Content-Length", "0")]), .end(nil)])
        #expect(custom == "HTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n")
    }

    /// A response to HEAD advertises the GET's framing but sends no body and no last chunk, so the
    /// next response on the connection starts where the client expects it.
    @Test func responsesToHEADCarryNoBodyBytes() throws {
        let text = try wire([head(.ok, [("X", "1")]), .end(nil), head(.ok, [("Content-Length", "5")]), Self.body, .end(nil)], answeringHEAD: true)
        #expect(text == "HTTP/1.1 200 OK\r\nX: 1\r\ntransfer-encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    }

    /// The writes a client channel sees when parts are written and flushed only at the end.
    private func writes(_ parts: [HTTPServerResponsePart]) throws -> [String] {
        let channel = EmbeddedChannel(handler: ClientResponseEncoder(sendsItself: false))
        defer { _ = try? channel.finish() }
        for part in parts { channel.write(part, promise: nil) }
        channel.flush()
        var result: [String] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { result.append(String(buffer: buffer)) }
        }
        return result
    }

    /// Small writes are gathered until the flush and leave as one write (behind TLS, as here);
    /// a body part larger than `OutboxState.largestGathered` follows what was gathered as it is.
    @Test func smallWritesLeaveTogetherAtTheFlush() throws {
        #expect(try writes([head(.ok, [("Content-Length", "5")]), Self.body, .end(nil)]) == ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"])
        let small = String(repeating: "x", count: OutboxState.largestGathered)
        #expect(
            try writes([head(.ok, [("Content-Length", "\(small.count)")]), .body(.byteBuffer(ByteBuffer(string: small))), .end(nil)])
                == ["HTTP/1.1 200 OK\r\nContent-Length: \(small.count)\r\n\r\n" + small])
        let large = small + "x"
        let parts = try writes([head(.ok, [("Content-Length", "\(large.count)")]), .body(.byteBuffer(ByteBuffer(string: large))), .end(nil)])
        #expect(parts == ["HTTP/1.1 200 OK\r\nContent-Length: \(large.count)\r\n\r\n", large])
        // Nothing leaves before the flush; a chunked body's framing is gathered with its parts.
        let channel = EmbeddedChannel(handler: ClientResponseEncoder(sendsItself: false))
        defer { _ = try? channel.finish() }
        channel.write(head(.ok, [("X", "1")]), promise: nil)
        channel.write(Self.body, promise: nil)
        channel.write(HTTPServerResponsePart.end(nil), promise: nil)
        #expect(try channel.readOutbound(as: IOData.self) == nil)
        channel.flush()
        guard case .byteBuffer(let flushed) = try channel.readOutbound(as: IOData.self) else {
            Issue.record("the gathered bytes were not written on flush")
            return
        }
        #expect(String(buffer: flushed) == "HTTP/1.1 200 OK\r\nX: 1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        #expect(try channel.readOutbound(as: IOData.self) == nil)
    }

    /// Gathered bytes are not lost when the connection is shut or closed without a flush first
    /// (a lingering close shuts the output right after the last part).
    @Test(arguments: [CloseMode.output, .all])
    func gatheredBytesLeaveBeforeAClose(mode: CloseMode) throws {
        let channel = EmbeddedChannel(handler: ClientResponseEncoder(sendsItself: false))
        defer { _ = try? channel.finish() }
        channel.write(head(.ok, [("Content-Length", "5")]), promise: nil)
        channel.write(Self.body, promise: nil)
        channel.close(mode: mode, promise: nil)
        guard case .byteBuffer(let sent) = try channel.readOutbound(as: IOData.self) else {
            Issue.record("nothing was written before the close")
            return
        }
        #expect(String(buffer: sent) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    }

    @Test(arguments: [(1, "1"), (15, "f"), (16, "10"), (255, "ff"), (4096, "1000"), (0x1_0000_0000, "100000000")])
    func chunkSizeLinesAreLowercaseHex(_ size: Int, _ hex: String) {
        var buffer = ByteBuffer()
        buffer.writeChunkSize(size)
        #expect(String(buffer: buffer) == hex + "\r\n")
    }
}
