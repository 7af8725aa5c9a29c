import DemoUpstreams
import NIOPosix
import Testing

/// The WebSocket test client against the WebSocket echo upstream directly, no gateway in between.
@Suite struct WebSocketTestClientTests {
    private func withEchoUpstream(_ body: (WebSocketEchoUpstream) async throws -> Void) async throws {
        try await WebSocketEchoUpstream.withRunning(group: MultiThreadedEventLoopGroup.singleton, body)
    }

    private func connect(_ upstream: WebSocketEchoUpstream, path: String = "/ws", headers: [(String, String)] = []) async throws
        -> WebSocketTestClient
    {
        try await WebSocketTestClient.connect(port: upstream.port, path: path, headers: headers)
    }

    @Test func textAndBinaryAreEchoed() async throws {
        try await withEchoUpstream { upstream in
            let client = try await connect(upstream, path: "/ws/chat?x=1", headers: [("X-Trace", "abc")])
            #expect(client.upgradeResponse.status == .switchingProtocols)
            try await client.send(text: "hello, echo")
            #expect(try await client.receive() == .text("hello, echo"))
            try await client.send(binary: [0, 1, 2, 255])
            #expect(try await client.receive() == .binary([0, 1, 2, 255]))
            try await client.send(text: "")
            #expect(try await client.receive() == .text(""))

            #expect(upstream.stats.upgrades == 1)
            #expect(upstream.stats.open == 1)
            #expect(upstream.lastUpgradeURI == "/ws/chat?x=1")
            #expect(upstream.lastUpgradeHeaders.contains { $0.0 == "X-Trace" && $0.1 == "abc" })
            #expect(upstream.lastUpgradeHeaders.contains { $0.0.lowercased() == "sec-websocket-key" })

            try await client.close(code: 1000)
            #expect(try await client.receive() == .close(code: 1000))
            #expect(try await client.receive() == .close(code: nil))
        }
    }

    @Test func fragmentedMessageIsReassembled() async throws {
        try await withEchoUpstream { upstream in
            let client = try await connect(upstream)
            // The upstream echoes frame by frame; the client puts the fragments back together.
            try await client.send(opcode: .text, payload: Array("frag".utf8), fin: false)
            try await client.ping([7])
            try await client.send(opcode: .continuation, payload: Array("ment".utf8), fin: false)
            try await client.send(opcode: .continuation, payload: Array("ed".utf8), fin: true)
            #expect(try await client.receive() == .pong([7]))
            #expect(try await client.receive() == .text("fragmented"))
            await client.disconnect()
        }
    }

    @Test func oneMebibyteBinaryMessage() async throws {
        try await withEchoUpstream { upstream in
            let client = try await connect(upstream)
            let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) }
            try await client.send(binary: payload)
            #expect(try await client.receive() == .binary(payload))
            await client.disconnect()
        }
    }

    @Test func pingIsAnsweredWithPong() async throws {
        try await withEchoUpstream { upstream in
            let client = try await connect(upstream)
            try await client.ping(Array("are you there".utf8))
            #expect(try await client.receive() == .pong(Array("are you there".utf8)))
            await client.disconnect()
        }
    }

    @Test func serverPingIsAnsweredByTheClient() async throws {
        try await withEchoUpstream { upstream in
            let client = try await connect(upstream)
            try await client.send(text: "ping-me")
            #expect(try await client.receive() == .ping(Array("srv".utf8)))
            #expect(try await client.receive() == .text("pong-received"))
            await client.disconnect()
        }
    }

    @Test func clientClosesWith4000() async throws {
        try await withEchoUpstream { upstream in
            let client = try await connect(upstream)
            try await client.close(code: 4000)
            #expect(try await client.receive() == .close(code: 4000))
            #expect(try await client.receive() == .close(code: nil))
            try await waitUntil { upstream.stats.open == 0 }
        }
    }

    @Test func serverClosesWith4000() async throws {
        try await withEchoUpstream { upstream in
            let client = try await connect(upstream)
            try await client.send(text: "close:4000")
            #expect(try await client.receive() == .close(code: 4000))
            // The client replied with a close frame, so the server completes the handshake and drops the connection.
            #expect(try await client.receive(timeout: .seconds(3)) == .close(code: nil))
            try await waitUntil { upstream.stats.open == 0 }
            #expect(upstream.stats.upgrades == 1)
        }
    }

    @Test func refusedUpgradeThrowsWithStatus() async throws {
        try await withEchoUpstream { upstream in
            let error = await #expect(throws: WebSocketUpgradeFailed.self) {
                _ = try await connect(upstream, path: "/ws-refuse")
            }
            #expect(error?.statusCode == 403)
            #expect(error.map { "\($0)" }?.contains("403") == true)

            let plain = await #expect(throws: WebSocketUpgradeFailed.self) {
                _ = try await connect(upstream, path: "/other")
            }
            #expect(plain?.statusCode == 200)
            #expect(plain?.body == "not a websocket\n")
            #expect(upstream.stats.upgrades == 0)
        }
    }

    @Test func connectionDroppedDuringUpgradeThrowsAborted() async throws {
        let upstream = try await DemoUpstream.start(group: MultiThreadedEventLoopGroup.singleton)
        defer { Task { try? await upstream.stop() } }
        await #expect(throws: WebSocketUpgradeAborted.self) {
            _ = try await WebSocketTestClient.connect(port: upstream.port, path: "/drop")
        }
    }

    @Test func stopClosesOpenWebSockets() async throws {
        let upstream = try await WebSocketEchoUpstream.start(group: MultiThreadedEventLoopGroup.singleton)
        let client = try await connect(upstream)
        try await client.send(text: "hi")
        #expect(try await client.receive() == .text("hi"))
        #expect(upstream.stats.open == 1)
        try await upstream.stop()
        #expect(upstream.stats.open == 0)
        #expect(try await client.receive() == .close(code: nil))
    }

    private func waitUntil(timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within \(timeout)")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
