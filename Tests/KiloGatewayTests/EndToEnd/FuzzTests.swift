import DemoUpstreams
import Testing

extension EndToEndTests {
    /// A bounded, seeded fuzz of the request path: mutated request bytes never crash the gateway
    /// or wedge it, and it keeps answering well-formed requests afterwards.
    @Suite struct Fuzz {
        static let seeds: [String] = [
            "GET /api/echo/a?b=c HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n\r\n",
            "POST /api/echo/p HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
            "POST /api/echo/c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
            "GET /health HTTP/1.0\r\n\r\nGET /api/echo/x HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /api/ws/x HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        ]
        static let interesting: [[UInt8]] = [
            Array("\r\n".utf8), Array(":".utf8), Array(" ".utf8), [0], [0x7f], [0xff], Array("%2e%2e/".utf8),
            Array("Content-Length: 99999999999999999999\r\n".utf8), Array("Transfer-Encoding: chunked\r\n".utf8),
            Array("\r\n\r\n".utf8), Array("HTTP/9.9".utf8), Array("ffffffffffffffff\r\n".utf8),
        ]

        /// One random mutation of a seed request: flip, insert, delete, splice or truncate.
        static func mutate(_ input: [UInt8], using random: inout SeededRandom) -> [UInt8] {
            var bytes = input
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                guard !bytes.isEmpty else { break }
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.insert(contentsOf: interesting.randomElement(using: &random)!, at: at)
                case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...8, using: &random)))
                case 3: bytes = Array(bytes[..<at])
                default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 16)], at: at)
                }
            }
            return bytes
        }

        @Test(.timeLimit(.minutes(2)))
        func mutatedRequestsNeverBreakTheGateway() async throws {
            try await withGateway(edge: { $0.limits.headerTimeout = .milliseconds(300) }) { gateway in
                var random = SeededRandom(seed: 0x6b696c6f)
                var cases: [String] = []
                for index in 0..<3_000 {
                    let seed = Array(Self.seeds[index % Self.seeds.count].utf8)
                    cases.append(String(decoding: Self.mutate(seed, using: &random), as: UTF8.self))
                }
                var answered = 0
                for start in stride(from: 0, to: cases.count, by: 24) {
                    answered += try await withThrowingTaskGroup(of: Int.self) { group in
                        for request in cases[start..<min(start + 24, cases.count)] {
                            group.addTask {
                                let result = try? await gateway.raw(request, halfClose: true, timeout: .seconds(2))
                                return result?.text.hasPrefix("HTTP/1.") == true ? 1 : 0
                            }
                        }
                        return try await group.reduce(0, +)
                    }
                }
                // The gateway is still healthy and nothing is left in flight.
                #expect(try await gateway.get("/health").status == 200)
                #expect(try await gateway.get("/api/echo/after-fuzz").status == 200)
                var active = -1
                for _ in 0..<100 {
                    active = await gateway.server.activeRequestCount()
                    if active == 0 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(active == 0)
                #expect(answered > 100, "most mutations still get an HTTP answer (\(answered) of \(cases.count))")
            }
        }
    }
}
