import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import KiloGateway

/// A head written from the upstream's bytes must be byte for byte the head the general path
/// (NIO's types, `HeaderRewriter`, the encoder) writes.
@Suite struct UpstreamResponseHeadTests {
    static let heads = [
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\nX-A:   spaced value  \r\n\r\n",
        "HTTP/1.1 404 Not Found\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX-Request-ID: upstream-id\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 12\r\n\r\n",
        "HTTP/1.0 200 OK\r\nTE: trailers\r\nTrailer: x\r\nUpgrade: h2c\r\nProxy-Connection: x\r\n\r\n",
        "HTTP/1.1 599 Whatever\r\nConnection: close\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nx-request-id: mine\r\nvary: *\r\n\r\n",
    ]

    @Test(arguments: heads)
    func passedThroughHeadsMatchTheGeneralPath(_ text: String) throws {
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 4096)
        var buffer = ByteBuffer(string: text)
        guard case .responseHead(let upstream, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(UpstreamResponseHead.passesThrough(upstream.status, facts))
        for version in [HTTPVersion.http1_1, .http1_0] {
            for keepAlive in [true, false] {
                for answeringHEAD in [false, true] {
                    let general = try Self.wire(answeringHEAD: answeringHEAD) { encoder in
                        let head = HeaderRewriter.clientResponseHead(
                            from: upstream.head, clientVersion: version, requestID: "rid", location: nil, keepAlive: keepAlive)
                        encoder.write(.head(head))
                    }
                    let passed = try Self.wire(answeringHEAD: answeringHEAD) { encoder in
                        encoder.writeHead(
                            passingThrough: upstream, hasLength: facts.hasContentLength, version: version, requestID: "rid",
                            keepAlive: keepAlive)
                    }
                    #expect(passed == general, "\(version) keepAlive \(keepAlive) HEAD \(answeringHEAD)")
                }
            }
        }
    }

    @Test(arguments: [
        ("HTTP/1.1 302 Found\r\nLocation: http://up/x\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nConnection: x-secret\r\nX-Secret: 1\r\n\r\n", false),
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", false),
        ("HTTP/1.1 200 OK\r\nConnection: close, keep-alive\r\n\r\n", true),
    ])
    func headsThatNeedRewritingTakeTheGeneralPath(_ text: String, _ passes: Bool) throws {
        var parser = HTTP1Parser(mode: .response, maxHeadBytes: 4096)
        var buffer = ByteBuffer(string: text)
        guard case .responseHead(let upstream, let facts) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(UpstreamResponseHead.passesThrough(upstream.status, facts) == passes)
    }

    /// What a client channel receives from the encoder after `write`, flushed.
    private static func wire(answeringHEAD: Bool, _ write: (ClientResponseEncoder) -> Void) throws -> String {
        let encoder = ClientResponseEncoder(sendsItself: false)
        let channel = EmbeddedChannel(handler: encoder)
        defer { _ = try? channel.finish() }
        encoder.answeringHEAD = answeringHEAD
        write(encoder)
        channel.flush()
        var text = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let bytes) = part { text += String(buffer: bytes) }
        }
        return text
    }
}
