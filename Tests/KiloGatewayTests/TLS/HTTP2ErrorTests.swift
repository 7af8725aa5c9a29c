import GatewayConfiguration
import NIOCore
import NIOHTTP2
import Testing

@testable import KiloGateway

/// What a client gets over HTTP/2 when its request or its connection is at fault.
@Suite(.serialized)
struct HTTP2ErrorTests {
    /// A header list above `limits.http2MaxHeaderListSize` (64 KiB by default) is answered 431 on
    /// its own stream, as HTTP/1 answers a head above `maxHeaderBytes`; the connection goes on.
    @Test func headersAboveTheLimitAre431OnTheirStream() async throws {
        try await withIssuedTLSGateway(serial: 1009) { gateway in
            let connection = try await HTTP2TestConnection.connect(port: gateway.tlsPort, caFile: gateway.pki.caCertificate)
            defer { Task { await connection.close() } }
            // After one answer the client has acknowledged the gateway's settings (NIO holds the
            // header lists before that to 16 KiB).
            let first = try await connection.get("/api/echo/first")
            #expect(first.status == 200)
            // 20 fields of 4,035 bytes each as HTTP/2 counts them: 80,700 bytes. The same field
            // again costs a byte or two on the wire (HPACK's table); NIO sends a header block in
            // one frame, which holds 16 KiB.
            let big = Array(repeating: ("x-big", String(repeating: "k", count: 4000)), count: 20)
            let refused = try await connection.get("/api/echo/big", headers: big)
            #expect(refused.status == 431)
            #expect(refused.text.contains(#""code":"headers_too_large""#))
            #expect(refused.text.contains("request header list larger than 65536 bytes"), "\(refused.text)")
            let after = try await connection.get("/api/echo/after")
            #expect(after.status == 200)
            #expect(gateway.upstreams["echo"]!.stats.requestCount == 2)
        }
    }

    /// After a connection error (a header block larger than even the size the gateway advertises)
    /// NIO sends GOAWAY and leaves the connection open; the gateway closes it instead of leaving
    /// the client waiting for an answer.
    @Test func aConnectionErrorClosesTheConnection() async throws {
        try await withIssuedTLSGateway(serial: 1010) { gateway in
            let connection = try await HTTP2FrameConnection.connect(port: gateway.tlsPort, caFile: gateway.pki.caCertificate)
            defer { Task { await connection.close() } }
            // 40 fields of 4,035 bytes each: 161,400 bytes, above the 128 KiB advertised (twice the
            // default limit); on the wire the repeats are a byte or two each (see above).
            let huge = Array(repeating: ("x-huge", String(repeating: "k", count: 4000)), count: 40)
            try await connection.get(stream: HTTP2StreamID(1), path: "/api/echo/huge", headers: huge)
            let closed = await eventually(timeout: .seconds(5)) { !connection.channel.isActive }
            #expect(closed, "the connection was still open 5 s after the error")
            #expect(gateway.upstreams["echo"]!.stats.requestCount == 0)
        }
    }

    /// An error of one stream (here a header name in capitals, which HTTP/2 forbids) resets that
    /// stream and winds the connection down; a stream already open gets its whole answer first.
    @Test func aStreamErrorLetsTheOpenStreamsFinish() async throws {
        try await withIssuedTLSGateway(serial: 1011) { gateway in
            let connection = try await Self.breakAStreamBesideASlowOne(gateway, delay: "1s")
            defer { Task { await connection.close() } }
            let finished = await eventually { connection.responseEnded(HTTP2StreamID(1)) }
            #expect(finished)
            let closed = await eventually { !connection.channel.isActive }
            #expect(closed, "the connection was still open 5 s after its last stream ended")
            #expect(gateway.upstreams["echo"]!.stats.requestCount == 1)
        }
    }

    /// A stream still open `limits.keepAliveTimeout` after another stream's error does not keep
    /// the connection open any longer.
    @Test func aStreamErrorClosesTheConnectionAKeepAliveTimeoutLaterAtTheLatest() async throws {
        var limits = ClientLimits()
        limits.keepAliveTimeout = .seconds(1)
        try await withIssuedTLSGateway(serial: 1012, limits: limits) { gateway in
            let connection = try await Self.breakAStreamBesideASlowOne(gateway, delay: "20s")
            defer { Task { await connection.close() } }
            let closed = await eventually { !connection.channel.isActive }
            #expect(closed, "the connection was still open 5 s after the error")
            #expect(!connection.responseEnded(HTTP2StreamID(1)))
        }
    }

    /// Opens stream 1 to an upstream that answers after `delay`, then breaks stream 3 with a
    /// header name in capitals; checks that only stream 3 was reset and the connection is open.
    private static func breakAStreamBesideASlowOne(_ gateway: TLSGatewayHarness, delay: String) async throws -> HTTP2FrameConnection {
        let connection = try await HTTP2FrameConnection.connect(
            port: gateway.tlsPort, caFile: gateway.pki.caCertificate, validateHeaders: false)
        try await connection.get(stream: HTTP2StreamID(1), path: "/api/echo/slow?delay=\(delay)", headers: [])
        let slowReached = await eventually { gateway.upstreams["echo"]!.stats.requestCount >= 1 }
        #expect(slowReached)
        try await connection.get(stream: HTTP2StreamID(3), path: "/api/echo/bad", headers: [("X-Capital", "1")])
        let reset = await eventually { connection.wasReset(HTTP2StreamID(3)) }
        #expect(reset)
        #expect(connection.channel.isActive, "closed at once although stream 1 was open")
        return connection
    }
}
