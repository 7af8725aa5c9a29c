import NIOHTTP1
import Testing

@testable import KiloGateway

@Suite struct HTTP2HeaderListSizeTests {
    /// Each field's name and value plus 32 (RFC 9113 §6.5.2), the pseudo-header fields included.
    @Test func countsEachFieldAsHTTP2Does() {
        var head = HTTPRequestHead(version: .http2, method: .GET, uri: "/api/x")
        head.headers.add(name: "host", value: "localhost")
        // :method GET, :scheme https, :path /api/x, host localhost
        #expect(RequestHygiene.http2HeaderListSize(head, scheme: "https") == (7 + 3 + 32) + (7 + 5 + 32) + (5 + 6 + 32) + (4 + 9 + 32))
    }

    /// Twice the limit is advertised (a request above the limit gets its 431), within HTTP/2's 32 bits.
    @Test func advertisesTwiceTheLimit() {
        #expect(TLSConnectionInitializer.advertisedHeaderListSize(limit: 64 * 1024) == 128 * 1024)
        #expect(TLSConnectionInitializer.advertisedHeaderListSize(limit: Int.max) <= Int(UInt32.max))
    }
}
