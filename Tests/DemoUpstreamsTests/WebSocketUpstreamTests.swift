import DemoUpstreams
import NIOPosix
import Testing

/// The WebSocket echo upstream checked byte by byte over a raw socket, independently of NIO's WebSocket client.
@Suite struct WebSocketUpstreamTests {
    /// The key and accept value from RFC 6455 §1.3.
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    private func withEchoUpstream(_ body: (WebSocketEchoUpstream) async throws -> Void) async throws {
        try await WebSocketEchoUpstream.withRunning(group: MultiThreadedEventLoopGroup.singleton, body)
    }

    private func upgradeRequest(_ target: String) -> String {
        request(
            "GET",
            target,
            headers: [
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", Self.key),
                ("Sec-WebSocket-Version", "13"),
            ]
        )
    }

    /// A client frame: FIN set, masked with a fixed key; payloads up to 125 bytes.
    private func maskedFrame(opcode: UInt8, payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= 125)
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        return [0x80 | opcode, 0x80 | UInt8(payload.count)] + mask
            + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    /// Upgrades over `client` and returns the bytes that followed the `101` head so far.
    private func upgrade(_ client: RawHTTPClient, target: String = "/ws") async throws -> Int {
        try await client.send(upgradeRequest(target))
        let response = try await client.readResponse()
        #expect(response.status == 101)
        #expect(response.value("upgrade")?.lowercased() == "websocket")
        #expect(response.value("connection")?.lowercased() == "upgrade")
        #expect(response.value("sec-websocket-accept") == Self.accept)
        let received = client.snapshot.bytes
        return try #require(RawResponse.find([13, 10, 13, 10], in: received, from: 0)) + 4
    }

    /// Waits for `count` bytes after `offset`.
    private func bytes(_ client: RawHTTPClient, from offset: Int, count: Int) async throws -> [UInt8] {
        let received = try await client.wait(for: "\(count) frame bytes") { $0.bytes.count >= offset + count }
        return Array(received.bytes[offset..<(offset + count)])
    }

    @Test func upgradeAndEchoATextFrame() async throws {
        try await withEchoUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            let start = try await upgrade(client, target: "/ws/chat?x=1")
            #expect(upstream.stats.upgrades == 1)
            #expect(upstream.stats.open == 1)
            #expect(upstream.lastUpgradeURI == "/ws/chat?x=1")
            #expect(upstream.lastUpgradeHeaders.contains { $0 == ("Sec-WebSocket-Key", Self.key) })

            try await client.send(maskedFrame(opcode: 0x1, payload: Array("hello".utf8)))
            // Server frames are unmasked: FIN+text, length 5, payload.
            #expect(try await bytes(client, from: start, count: 7) == [0x81, 5] + Array("hello".utf8))

            try await client.send(maskedFrame(opcode: 0x9, payload: [1, 2, 3]))
            #expect(try await bytes(client, from: start + 7, count: 5) == [0x8A, 3, 1, 2, 3])

            // Close 1000 → close 1000 back, then the server closes the connection.
            try await client.send(maskedFrame(opcode: 0x8, payload: [0x03, 0xE8]))
            #expect(try await bytes(client, from: start + 12, count: 4) == [0x88, 2, 0x03, 0xE8])
            try await client.waitForClose()
        }
    }

    @Test func serverInitiatedClose() async throws {
        try await withEchoUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            let start = try await upgrade(client)
            try await client.send(maskedFrame(opcode: 0x1, payload: Array("close:4000".utf8)))
            // 4000 = 0x0FA0, reason "bye".
            #expect(try await bytes(client, from: start, count: 7) == [0x88, 5, 0x0F, 0xA0] + Array("bye".utf8))
            #expect(!client.snapshot.closed)
            try await client.send(maskedFrame(opcode: 0x8, payload: [0x0F, 0xA0]))
            try await client.waitForClose()
        }
    }

    @Test func refusedAndPlainRequests() async throws {
        try await withEchoUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            try await client.send(upgradeRequest("/ws-refuse"))
            let refused = try await client.readResponse()
            #expect(refused.status == 403)
            #expect(refused.value("sec-websocket-accept") == nil)

            let plain = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await plain.close() } }
            try await plain.send(request("GET", "/other"))
            let response = try await plain.readResponse()
            #expect(response.status == 200)
            #expect(response.bodyText == "not a websocket\n")
            // Keep-alive: a second request on the same connection is answered too.
            try await plain.send(request("GET", "/ws"))
            #expect(try await plain.readResponse().status == 200)

            // Broken WebSocket headers (no key) on an upgradable path: 400, not 101. Only the first request of a
            // connection can upgrade, so this needs a fresh one.
            let broken = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await broken.close() } }
            try await broken.send(request("GET", "/ws", headers: [("Upgrade", "websocket"), ("Connection", "Upgrade")]))
            let bad = try await broken.readResponse()
            #expect(bad.status == 400)
            #expect(bad.bodyText == "bad websocket upgrade\n")

            #expect(upstream.stats.upgrades == 0)
            #expect(upstream.stats.connectionsAccepted == 3)
        }
    }
}
