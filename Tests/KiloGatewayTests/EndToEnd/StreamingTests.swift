import DemoUpstreams
import Foundation
import NIOHTTP1
import Testing

extension EndToEndTests {
    /// Bodies stream both ways with bounded memory, and events are flushed as they arrive.
    @Suite struct Streaming {
        @Test func sseEventsArriveSeparatelyAsTheyAreSent() async throws {
            try await withGateway { gateway in
                let response = try await gateway.send(TestRequest(uri: "/api/echo/sse?events=20&interval=100ms"))
                #expect(response.status == 200)
                #expect(response.header("content-type")?.hasPrefix("text/event-stream") == true)
                #expect(response.text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }.count == 20)
                #expect(response.arrivals.count == 20, "each event is its own arrival, not buffered together")
                let gaps = zip(response.arrivals.dropFirst(), response.arrivals).map { $0 - $1 }
                let median = gaps.sorted()[gaps.count / 2]
                #expect(median > .milliseconds(70) && median < .milliseconds(160), "median gap \(median)")
            }
        }

        @Test func largeBodiesStreamBothWaysWithBoundedMemory() async throws {
            try await withGateway(configure: { $0.maxBodySize = 0 }) { gateway in
                // Warm up the pools and allocator, then measure.
                _ = try await gateway.send(TestRequest(uri: "/api/echo/bytes?size=8388608"), collectBody: false)
                let before = ProcessStats.residentBytes()
                let size = 256 << 20
                let download = try await gateway.send(TestRequest(uri: "/api/echo/bytes?size=\(size)"), collectBody: false)
                #expect(download.status == 200 && download.complete)
                #expect(download.bodyLength == size)
                let upload = try await gateway.send(
                    TestRequest(method: .POST, uri: "/api/echo/upload", body: .generated(total: size, chunk: 256 << 10, chunked: false)))
                let echo = try EchoReply(upload)
                #expect(echo.bodyLength == size)
                let after = ProcessStats.residentBytes()
                let growth = after - before
                #expect(growth < 64 << 20, "resident memory grew by \(growth >> 20) MiB for 512 MiB streamed")
            }
        }

        @Test func clientAbortingADownloadReleasesTheUpstreamConnection() async throws {
            try await withGateway { gateway in
                _ = try await gateway.get("/api/echo/warm")
                let descriptorsBefore = ProcessStats.openDescriptors()
                for _ in 0..<5 {
                    let partial = try await gateway.send(
                        TestRequest(uri: "/api/echo/bytes?size=1073741824"), collectBody: false, abortAfterBytes: 1 << 20)
                    #expect(!partial.complete)
                }
                // The gateway closed the abandoned upstream connections instead of pooling them mid-message.
                let upstream = gateway.upstream("echo")
                let released = await eventually { upstream.stats.openConnections <= 1 }
                #expect(released, "open: \(upstream.stats.openConnections)")
                for index in 0..<10 {
                    #expect(try await gateway.get("/api/echo/next/\(index)").status == 200)
                }
                let settled = await eventually { ProcessStats.openDescriptors() <= descriptorsBefore + 2 }
                #expect(settled, "descriptors \(descriptorsBefore) → \(ProcessStats.openDescriptors())")
            }
        }

        @Test func silenceLongerThanTheIdleTimeoutCutsTheStream() async throws {
            try await withGateway(configure: { $0.timeouts.idle = .milliseconds(250) }) { gateway in
                let quick = try await gateway.send(TestRequest(uri: "/api/echo/sse?events=5&interval=50ms"))
                #expect(quick.complete && quick.arrivals.count == 5)
                let stalled = try await gateway.send(TestRequest(uri: "/api/echo/sse?events=3&interval=1s"))
                #expect(stalled.status == 200)
                #expect(!stalled.complete, "the stream is cut, not ended cleanly")
                #expect(stalled.arrivals.count < 3)
            }
        }

        @Test func expectContinueIsAnswered() async throws {
            try await withGateway { gateway in
                let body = String(repeating: "x", count: 100)
                let result = try await gateway.raw(
                    "POST /api/echo/upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
                        + body)
                #expect(result.text.hasPrefix("HTTP/1.1 100 Continue\r\n"))
                #expect(result.text.contains("HTTP/1.1 200 OK"))
                #expect(result.text.contains(#""bodyLength":100"#))
            }
        }

        @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
            try await withGateway { gateway in
                let requests = (0..<5).map { "GET /api/echo/p/\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined()
                    + "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                let result = try await gateway.raw(requests)
                let order = (0..<5).compactMap { index in result.text.range(of: #""uri":"/p/\#(index)""#)?.lowerBound }
                #expect(order.count == 5)
                #expect(order == order.sorted())
                #expect(result.text.hasSuffix(#"{"status":"ok"}"#))
                #expect(result.closedByServer)
            }
        }

        @Test func halfClosedClientStillGetsItsAnswer() async throws {
            try await withGateway { gateway in
                let result = try await gateway.raw("GET /api/echo/slow?delay=200ms HTTP/1.1\r\nHost: t\r\n\r\n", halfClose: true)
                #expect(result.text.hasPrefix("HTTP/1.1 200 OK"))
                #expect(result.closedByServer)
            }
        }

        @Test func http10ClientGetsAClosedDelimitedOrSizedBody() async throws {
            try await withGateway { gateway in
                let result = try await gateway.raw("GET /api/echo/sse?events=3&interval=10ms HTTP/1.0\r\nHost: t\r\n\r\n")
                #expect(result.text.hasPrefix("HTTP/1.0 200 OK"))
                #expect(!result.text.lowercased().contains("transfer-encoding: chunked"))
                #expect(result.text.contains("data: token 3"))
                #expect(result.closedByServer)
            }
        }

        @Test func malformedRequestGetsA400AndTheGatewayKeepsServing() async throws {
            try await withGateway { gateway in
                let conflicting = try await gateway.raw(
                    "POST /api/echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                #expect(conflicting.text.hasPrefix("HTTP/1.1 400"))
                let garbage = try await gateway.raw("NOT HTTP AT ALL\r\n\r\n")
                #expect(garbage.text.hasPrefix("HTTP/1.1 400") || garbage.text.isEmpty)
                // The reply says what was wrong in words, not as a parser's error name.
                let bareLF = try await gateway.raw("GET /api/echo/x HTTP/1.1\nHost: t\n\n")
                #expect(bareLF.text.hasPrefix("HTTP/1.1 400"))
                #expect(bareLF.text.contains("malformed HTTP request: a line does not end with CR LF"))
                #expect(gateway.upstream("echo").stats.requestCount == 0)
                #expect(try await gateway.get("/api/echo/fine").status == 200)
            }
        }
    }
}
