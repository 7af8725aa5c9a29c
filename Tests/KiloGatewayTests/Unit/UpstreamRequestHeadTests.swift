import NIOCore
import NIOHTTP1
import Testing

@testable import KiloGateway

/// A request head written from the client's bytes must be byte for byte the head the general
/// path (`HeaderRewriter`, then the encoder's serialisation of NIO's type) writes.
@Suite struct UpstreamRequestHeadTests {
    static let heads = [
        "GET /api/svc/x?q=1 HTTP/1.1\r\nHost: gw.local\r\nAccept: */*\r\n\r\n",
        "POST /api/svc/upload HTTP/1.1\r\nHost: gw\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        "PUT /api/svc/f HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nX-Request-ID: abc\r\nKeep-Alive: 5\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
        "BREW /pot HTTP/1.1\r\nhost:   spaced  \r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: gopher\r\nX-Forwarded-Host: evil\r\n\r\n",
        "GET /old HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nCookie: a=1\r\ncookie: b=2\r\n\r\n",
        "DELETE /x HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nProxy-Authorization: x\r\nProxy-Connection: y\r\n\r\n",
    ]

    @Test(arguments: heads)
    func passedThroughHeadsMatchTheGeneralPath(_ text: String) throws {
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 4096)
        var buffer = ByteBuffer(string: text)
        guard case .requestHead(let client, let facts) = try parser.next(&buffer), case .success(let framing) = facts.framing,
            let raw = facts.raw
        else {
            Issue.record("no head")
            return
        }
        for address in [String?.none, "10.0.0.7"] {
            for scheme in ["http", "https"] {
                for upgrade in [String?.none, "websocket"] {
                    let request = UpstreamRequestHead(
                        client: client, raw: raw, target: "/base/x?y=1", authority: "kilo-meds:9000", framing: framing,
                        facts: .init(address: address, scheme: scheme, requestID: "rid-1", upgrade: upgrade),
                        connectionNamesOthers: facts.connectionNamesOthers)
                    #expect(request.passesThrough)
                    var general = ByteBuffer()
                    general.writeRequestHead(request.head)
                    var passed = ByteBuffer()
                    passed.writeRequestHead(passingThrough: request, raw: raw)
                    #expect(String(buffer: passed) == String(buffer: general), "address \(String(describing: address)) \(scheme) \(String(describing: upgrade))")
                }
            }
        }
    }

    @Test func headsThatNeedMoreTakeTheGeneralPath() throws {
        func request(_ text: String, trusted: Bool = false) throws -> UpstreamRequestHead? {
            var parser = HTTP1Parser(mode: .request, maxHeadBytes: 4096)
            var buffer = ByteBuffer(string: text)
            guard case .requestHead(let client, let facts) = try parser.next(&buffer), case .success(let framing) = facts.framing else {
                return nil
            }
            return UpstreamRequestHead(
                client: client, raw: facts.raw, target: "/", authority: "up", framing: framing,
                facts: .init(address: "1.2.3.4", scheme: "http", requestID: "r", trustForwardedHeaders: trusted),
                connectionNamesOthers: facts.connectionNamesOthers)
        }
        // A field named in Connection is removed with it: the general path knows how.
        #expect(try request("GET / HTTP/1.1\r\nHost: a\r\nConnection: x-secret\r\nX-Secret: 1\r\n\r\n")?.passesThrough == false)
        // A trusted proxy's X-Forwarded-* are merged, not replaced.
        #expect(try request("GET / HTTP/1.1\r\nHost: a\r\n\r\n", trusted: true)?.passesThrough == false)
        #expect(try request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")?.passesThrough == true)
    }
}
