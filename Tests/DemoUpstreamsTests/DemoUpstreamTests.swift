import DemoUpstreams
import Foundation
import NIOCore
import NIOPosix
import Testing

/// Serialized: several tests assert on timing, which a neighbour pumping 64 MiB through the same two event loops
/// would distort.
@Suite(.serialized) struct DemoUpstreamTests {
    @Test func echoDescribesTheRequest() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            let body = Array("hello, upstream".utf8)
            let target = "/some/path?b=2&a=%20x"
            try await client.send(
                request(
                    "POST",
                    target,
                    headers: [("X-Dup", "one"), ("x-dup", "two"), ("Content-Length", "\(body.count)")]
                )
            )
            try await client.send(body)
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.value("content-type") == "application/json")

            let json = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            #expect(json["method"] as? String == "POST")
            #expect(json["uri"] as? String == target)
            #expect(json["path"] as? String == "/some/path")
            #expect(json["query"] as? String == "b=2&a=%20x")
            #expect(json["bodyLength"] as? Int == body.count)
            #expect(json["bodySHA256"] as? String == SHA256.hexDigest(body))
            #expect(json["server"] as? String == "127.0.0.1:\(upstream.port)")
            let headers = try #require(json["headers"] as? [[String]])
            #expect(headers.contains(["X-Dup", "one"]) && headers.contains(["x-dup", "two"]))

            let recorded = try #require(upstream.stats.requests.last)
            #expect(recorded.method == "POST")
            #expect(recorded.uri == target)
            #expect(recorded.values(forHeader: "x-dup") == ["one", "two"])
            #expect(recorded.bodyLength == body.count)
            #expect(recorded.bodySHA256 == SHA256.hexDigest(body))
            #expect(upstream.stats.requestCount == 1)
        }
    }

    @Test func echoDigestsAChunkedUploadAsItStreams() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            try await client.send(request("PUT", "/upload", headers: [("Transfer-Encoding", "chunked")]))
            var hasher = SHA256()
            var total = 0
            for index in 0..<64 {
                let chunk = [UInt8](repeating: UInt8(index), count: 32 * 1024 + index)
                hasher.update(chunk)
                total += chunk.count
                try await client.send(Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10])
            }
            try await client.send("0\r\n\r\n")
            let response = try await client.readResponse()
            let json = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            #expect(json["bodyLength"] as? Int == total)
            #expect(json["bodySHA256"] as? String == SHA256.hex(hasher.finalize()))
        }
    }

    @Test func expectContinueIsAnsweredBeforeTheBody() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            try await client.send(
                request("POST", "/upload", headers: [("Expect", "100-continue"), ("Content-Length", "3")])
            )
            let interim = try await client.readResponse()
            #expect(interim.status == 100)
            try await client.send("abc")
            let final = try await client.readResponse()
            #expect(final.status == 200)
            #expect(final.bodyText.contains(#""bodyLength":3"#))
        }
    }

    @Test func bytesHaveTheDeclaredLengthAndPattern() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            let size = 300_000
            try await client.send(request("GET", "/bytes?size=\(size)"))
            let response = try await client.readResponse()
            #expect(response.value("content-length") == "\(size)")
            #expect(response.body.count == size)
            let mismatch = response.body.enumerated().first { $0.element != UInt8($0.offset % 251) }
            #expect(mismatch == nil, "first mismatch at \(String(describing: mismatch)) \(response.body.count)")

            try await client.send(request("GET", "/bytes?size=\(size)&chunked=1"))
            let chunked = try await client.readResponse()
            #expect(chunked.value("transfer-encoding") == "chunked")
            #expect(chunked.value("content-length") == nil)
            #expect(chunked.body == response.body)
        }
    }

    @Test func bytesStreamALargeBodyToACountingReader() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port, countOnly: true)
            defer { Task { await client.close() } }
            let size = 64 * 1024 * 1024
            try await client.send(request("GET", "/bytes?size=\(size)"))
            // Head plus body: the head is under 200 bytes.
            try await client.wait(for: "64 MiB", timeout: .seconds(20)) { $0.countedBytes >= size }
        }
    }

    @Test func eventsArriveAsSeparateChunks() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            let started = ContinuousClock.now
            try await client.send(request("GET", "/sse?events=4&interval=100ms"))
            let response = try await client.readResponse()
            #expect(response.value("content-type") == "text/event-stream")
            #expect(response.bodyText == (1...4).map { "data: token \($0)\n\n" }.joined())
            // Each event is flushed on its own, so the first must arrive long before the last, in a read of its own.
            let chunks = client.snapshot.chunks.map { (at: $0.at, text: String(decoding: $0.bytes, as: UTF8.self)) }
            let first = try #require(chunks.first { $0.text.contains("token 1\n") })
            let last = try #require(chunks.first { $0.text.contains("token 4\n") })
            #expect(!first.text.contains("token 4"))
            #expect(last.at - first.at >= .milliseconds(200))
            #expect(ContinuousClock.now - started >= .milliseconds(300))
        }
    }

    @Test func statusRoutesAndHeadKeepFramingRight() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            try await client.send(request("GET", "/status/418"))
            let teapot = try await client.readResponse()
            #expect(teapot.status == 418)
            #expect(teapot.bodyText.contains("418"))

            try await client.send(request("HEAD", "/status/200"))
            let head = try await client.readResponse(isHeadRequest: true)
            #expect(head.status == 200)
            #expect(Int(head.value("content-length") ?? "") ?? 0 > 0)

            try await client.send(request("GET", "/status/204"))
            let noContent = try await client.readResponse()
            #expect(noContent.status == 204)

            // Had HEAD or 204 carried a body, it would be parsed here instead of the next response.
            try await client.send(request("GET", "/status/201"))
            #expect(try await client.readResponse().status == 201)

            try await client.send(request("GET", "/status/103"))
            #expect(try await client.readResponse().status == 103)
            #expect(try await client.readResponse().status == 200)
        }
    }

    @Test func redirectAndCookies() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            try await client.send(request("GET", "/redirect?to=/landing&code=307"))
            let redirect = try await client.readResponse()
            #expect(redirect.status == 307)
            #expect(redirect.value("location") == "http://127.0.0.1:\(upstream.port)/landing")

            try await client.send(request("GET", "/cookies"))
            let cookies = try await client.readResponse()
            #expect(cookies.values("set-cookie").count == 3)
        }
    }

    @Test func slowAnswersAfterTheDelay() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            defer { Task { await client.close() } }
            let started = ContinuousClock.now
            try await client.send(request("GET", "/slow?delay=150ms"))
            #expect(try await client.readResponse().status == 200)
            #expect(ContinuousClock.now - started >= .milliseconds(150))
        }
    }

    @Test func keepAliveConnectionCloseAndHTTP10() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            try await client.send(request("GET", "/a") + request("GET", "/b"))
            #expect(try await client.readResponse().bodyText.contains(#""uri":"/a""#))
            #expect(try await client.readResponse().bodyText.contains(#""uri":"/b""#))
            try await client.send(request("GET", "/c", headers: [("Connection", "close")]))
            let last = try await client.readResponse()
            #expect(last.value("connection") == "close")
            try await client.waitForClose()

            let old = try await RawHTTPClient.connect(port: upstream.port)
            try await old.send(request("GET", "/sse?events=2&interval=1ms", version: "HTTP/1.0"))
            try await old.waitForClose()
            let response = try await old.readResponse()
            #expect(response.version == "HTTP/1.0")
            #expect(response.closeDelimited)
            #expect(response.bodyText == "data: token 1\n\ndata: token 2\n\n")
            #expect(upstream.stats.connectionsAccepted == 2)
        }
    }

    @Test func halfClosingClientStillGetsItsAnswer() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            try await client.send(request("GET", "/slow?delay=50ms"))
            try await client.channel.close(mode: .output)
            #expect(try await client.readResponse().status == 200)
            try await client.waitForClose()
        }
    }

    @Test func closeAfterResponseBehaviour() async throws {
        try await withUpstream(behaviour: Behaviour(closeAfterResponse: true)) { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            try await client.send(request("GET", "/"))
            #expect(try await client.readResponse().value("connection") == "close")
            try await client.waitForClose()
        }
    }

    @Test func idleCloseClosesIdleConnectionsOnly() async throws {
        let idle = Behaviour(idleClose: .milliseconds(150) ... .milliseconds(200))
        try await withUpstream(behaviour: idle) { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            // A fresh connection is not idle-closed before its first request.
            try await Task.sleep(for: .milliseconds(250))
            try await client.send(request("GET", "/"))
            #expect(try await client.readResponse().status == 200)
            // Timers fire late under load, never early, so "still open shortly after" is a stable check.
            try await Task.sleep(for: .milliseconds(50))
            #expect(!client.snapshot.closed)
            #expect(upstream.stats.openConnections == 1)
            try await client.waitForClose(timeout: .seconds(2))
            try await upstream.waitUntil { $0.openConnections == 0 }
        }
    }

    @Test func stopRefusesAndRestartServesTheSamePort() async throws {
        let upstream = try await DemoUpstream.start(group: MultiThreadedEventLoopGroup.singleton)
        let port = upstream.port
        let open = try await RawHTTPClient.connect(port: port)
        try await open.send(request("GET", "/before"))
        _ = try await open.readResponse()

        try await upstream.stop()
        try await open.waitForClose()
        #expect(upstream.stats.openConnections == 0)
        await #expect(throws: (any Error).self) { _ = try await RawHTTPClient.connect(port: port) }

        try await upstream.restart()
        #expect(upstream.port == port)
        let again = try await RawHTTPClient.connect(port: port)
        try await again.send(request("GET", "/after"))
        #expect(try await again.readResponse().status == 200)
        #expect(upstream.stats.requests.map(\.uri) == ["/before", "/after"])
        try await upstream.stop()
        try await upstream.stop()
    }

    @Test func earlyAnswersWithoutReadingTheBody() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            // Head and a sliver of the promised 10 MB in one write: the answer must come without the rest.
            let head = request("POST", "/early?status=413", headers: [("Content-Length", "10000000")])
            try await client.send(Array(head.utf8) + [UInt8](repeating: 0x61, count: 1000))
            let response = try await client.readResponse()
            #expect(response.status == 413)
            #expect(response.value("connection") == "close")
            // The server half-closes and drains; the client closing ends it.
            try await client.waitForClose(timeout: .seconds(4))
            let recorded = try #require(upstream.stats.requests.last)
            #expect(recorded.bodyLength == -1)
        }
    }

    @Test func dropClosesWithoutAnswer() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            try await client.send(request("GET", "/drop"))
            try await client.waitForClose()
            #expect(client.snapshot.bytes.isEmpty)
            #expect(upstream.stats.requests.last?.bodyLength == -1)
        }
    }

    @Test func resetCutsTheBodyShortWithAnRST() async throws {
        try await withUpstream { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            try await client.send(request("GET", "/reset?size=10000&after=1000"))
            try await client.waitForClose()
            let received = client.snapshot
            let bytes = received.bytes
            let headEnd = try #require(RawResponse.find([13, 10, 13, 10], in: bytes, from: 0))
            #expect(String(decoding: bytes[..<headEnd], as: UTF8.self).lowercased().contains("content-length: 10000"))
            #expect(bytes.count - (headEnd + 4) == 1000)
            let error = try #require(received.error)
            #expect("\(error)".lowercased().contains("reset"))
        }
    }

    @Test func hangReadsButNeverAnswers() async throws {
        try await withUpstream(behaviour: Behaviour(hang: true)) { upstream in
            let client = try await RawHTTPClient.connect(port: upstream.port)
            try await client.send(request("POST", "/", headers: [("Content-Length", "2")]) + "hi")
            try await upstream.waitUntil { $0.requestCount == 1 }
            try await Task.sleep(for: .milliseconds(150))
            #expect(client.snapshot.bytes.isEmpty)
            #expect(!client.snapshot.closed)
            #expect(upstream.stats.requests.last?.bodyLength == 2)
        }
    }

    @Test func headerDelayAndBehaviourChangesAtRunTime() async throws {
        try await withUpstream { upstream in
            upstream.setBehaviour(Behaviour(headerDelay: .milliseconds(120)))
            #expect(upstream.behaviour.headerDelay == .milliseconds(120))
            let client = try await RawHTTPClient.connect(port: upstream.port)
            let started = ContinuousClock.now
            try await client.send(request("GET", "/"))
            _ = try await client.readResponse()
            #expect(ContinuousClock.now - started >= .milliseconds(120))

            upstream.setBehaviour(Behaviour())
            upstream.resetStats()
            #expect(upstream.stats.requestCount == 0)
            #expect(upstream.stats.openConnections == 1)
        }
    }
}

extension DemoUpstream {
    /// Polls the stats until `predicate` holds; connection bookkeeping completes on the event loop, asynchronously.
    func waitUntil(timeout: Duration = .seconds(5), _ predicate: (Stats) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !predicate(self.stats) {
            guard ContinuousClock.now < deadline else { throw RawHTTPClient.TimedOut(what: "upstream stats") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}
