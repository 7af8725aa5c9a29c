import DemoUpstreams
import GatewayConfiguration
import Testing

extension EndToEndTests {
    /// WebSocket connections proxied through the gateway: after the upstream's 101 the bytes are relayed.
    @Suite struct WebSockets {
        /// Runs `body` with a gateway whose service `ws` is a WebSocket echo upstream.
        static func withWebSocketGateway(
            edge: (inout GatewayConfig) -> Void = { _ in },
            _ body: (GatewayHarness, WebSocketEchoUpstream) async throws -> Void
        ) async throws {
            try await WebSocketEchoUpstream.withRunning(group: TestGroups.upstream) { upstream in
                try await withGateway(extraServices: ["ws": UpstreamURL(host: "127.0.0.1", port: upstream.port)], edge: edge) {
                    gateway in try await body(gateway, upstream)
                }
            }
        }

        @Test func messagesPingAndCloseCodesPassBothWays() async throws {
            try await Self.withWebSocketGateway { gateway, upstream in
                let client = try await WebSocketTestClient.connect(port: gateway.port, path: "/api/ws/ws/chat?room=1", group: TestGroups.client)
                #expect(upstream.lastUpgradeURI == "/ws/chat?room=1")
                try await client.send(text: "hello")
                #expect(try await client.receive() == .text("hello"))
                try await client.send(binary: [0, 1, 2, 255])
                #expect(try await client.receive() == .binary([0, 1, 2, 255]))
                let big = (0..<(1 << 20)).map { UInt8($0 % 251) }
                try await client.send(binary: big)
                #expect(try await client.receive() == .binary(big))
                try await client.ping([9, 9])
                #expect(try await client.receive() == .pong([9, 9]))
                try await client.close(code: 4000)
                #expect(try await client.receive() == .close(code: 4000))
            }
        }

        @Test func upstreamCanCloseWithItsOwnCode() async throws {
            try await Self.withWebSocketGateway { gateway, _ in
                let client = try await WebSocketTestClient.connect(port: gateway.port, path: "/api/ws/ws", group: TestGroups.client)
                try await client.send(text: "close:4000")
                #expect(try await client.receive() == .close(code: 4000))
            }
        }

        @Test func refusedUpgradeIsAnOrdinaryResponse() async throws {
            try await Self.withWebSocketGateway { gateway, _ in
                await #expect(throws: WebSocketUpgradeFailed.self) {
                    _ = try await WebSocketTestClient.connect(port: gateway.port, path: "/api/ws/ws-refuse", group: TestGroups.client)
                }
                let plain = try await gateway.get("/api/ws/plain")
                #expect(plain.status == 200)
            }
        }

        @Test func twoHundredConcurrentWebSockets() async throws {
            try await Self.withWebSocketGateway { gateway, upstream in
                let echoed = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            let client = try await WebSocketTestClient.connect(port: gateway.port, path: "/api/ws/ws/\(index)", group: TestGroups.client)
                            var ok = true
                            for round in 0..<3 {
                                try await client.send(text: "\(index)-\(round)")
                                let reply = try await client.receive()
                                ok = ok && reply == .text("\(index)-\(round)")
                            }
                            try await client.close(code: 1000)
                            _ = try await client.receive()
                            return ok
                        }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(echoed.count == 200 && echoed.allSatisfy { $0 })
                #expect(upstream.stats.upgrades == 200)
            }
        }

        @Test func idleWebSocketIsClosedAfterItsTimeout() async throws {
            try await Self.withWebSocketGateway(edge: { $0.websocket.idleTimeout = .milliseconds(300) }) { gateway, _ in
                let client = try await WebSocketTestClient.connect(port: gateway.port, path: "/api/ws/ws", group: TestGroups.client)
                try await client.send(text: "hi")
                #expect(try await client.receive() == .text("hi"))
                let start = ContinuousClock.now
                let ended = try await client.receive(timeout: .seconds(5))
                #expect(ended == .close(code: nil))
                #expect(ContinuousClock.now - start < .seconds(2))
            }
        }
    }
}
