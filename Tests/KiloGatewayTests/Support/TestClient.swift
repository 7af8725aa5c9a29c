import NIOCore
import NIOHTTP1
import NIOPosix

/// A response as a test client saw it.
struct TestResponse: Sendable {
    var head: HTTPResponseHead
    /// The body, when collected.
    var body: ByteBuffer
    var bodyLength: Int
    /// When each body part arrived.
    var arrivals: [ContinuousClock.Instant]
    /// The response ended with a proper end of message (not a closed connection).
    var complete: Bool

    var status: Int { Int(head.status.code) }
    var text: String { String(buffer: body) }
    func header(_ name: String) -> String? { head.headers.first(name: name) }
}

/// A request body for the test client.
enum TestBody: Sendable {
    case none
    case bytes([UInt8])
    /// `total` bytes of the pattern `UInt8(i % 251)`, streamed in `chunk`-sized parts with backpressure.
    case generated(total: Int, chunk: Int, chunked: Bool)
}

/// A request for the test client.
struct TestRequest: Sendable {
    var method: HTTPMethod = .GET
    var uri: String
    var headers: [(String, String)] = []
    var body: TestBody = .none
    var version: HTTPVersion = .http1_1
}

/// A small HTTP/1.1 client on NIO for end-to-end tests: real sockets, streaming both ways.
enum TestClient {
    enum Failure: Error { case noResponse, truncated(TestResponse) }

    /// Sends one request on a new connection.
    static func send(
        _ request: TestRequest, port: Int, group: any EventLoopGroup, collectBody: Bool = true,
        abortAfterBytes: Int? = nil
    ) async throws -> TestResponse {
        try await sendAll([request], port: port, group: group, collectBody: collectBody, abortAfterBytes: abortAfterBytes)[0]
    }

    /// Convenience for a GET.
    static func get(_ uri: String, port: Int, group: any EventLoopGroup, headers: [(String, String)] = []) async throws -> TestResponse {
        try await send(TestRequest(uri: uri, headers: headers), port: port, group: group)
    }

    /// Sends requests one after another on one keep-alive connection.
    static func sendAll(
        _ requests: [TestRequest], port: Int, group: any EventLoopGroup, collectBody: Bool = true,
        abortAfterBytes: Int? = nil
    ) async throws -> [TestResponse] {
        let channel = try await ClientBootstrap(group: group)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var responses: [TestResponse] = []
            for request in requests {
                // Written concurrently with reading, as real clients do: an upstream may answer
                // (and the gateway close) before the body is sent.
                let writer = Task { try await write(request, to: outbound) }
                defer { writer.cancel() }
                var response: TestResponse?
                var done = false
                while !done {
                    let next: HTTPClientResponsePart?
                    do {
                        next = try await iterator.next()
                    } catch {
                        // A connection cut mid-body makes the decoder fail: that is a truncated response.
                        guard var partial = response else { throw error }
                        partial.complete = false
                        responses.append(partial)
                        return responses
                    }
                    guard let part = next else {
                        if var partial = response {
                            partial.complete = false
                            responses.append(partial)
                            return responses
                        }
                        throw Failure.noResponse
                    }
                    switch part {
                    case .head(let head):
                        if head.status.code >= 100 && head.status.code < 200 { continue }
                        response = TestResponse(head: head, body: ByteBuffer(), bodyLength: 0, arrivals: [], complete: false)
                    case .body(var buffer):
                        response?.bodyLength += buffer.readableBytes
                        response?.arrivals.append(.now)
                        if collectBody { response?.body.writeBuffer(&buffer) }
                        if let limit = abortAfterBytes, let length = response?.bodyLength, length >= limit {
                            responses.append(response!)
                            return responses
                        }
                    case .end:
                        response?.complete = true
                        done = true
                    }
                }
                _ = await writer.result
                responses.append(response!)
            }
            return responses
        }
    }

    private static func write(_ request: TestRequest, to outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>) async throws {
        var head = HTTPRequestHead(version: request.version, method: request.method, uri: request.uri)
        head.headers.add(name: "host", value: "gateway.test")
        for (name, value) in request.headers { head.headers.add(name: name, value: value) }
        switch request.body {
        case .none:
            try await outbound.write(.head(head))
        case .bytes(let bytes):
            if !head.headers.contains(name: "content-length") {
                head.headers.add(name: "content-length", value: String(bytes.count))
            }
            try await outbound.write(.head(head))
            if !bytes.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes)))) }
        case .generated(let total, let chunk, let chunked):
            if chunked {
                head.headers.add(name: "transfer-encoding", value: "chunked")
            } else {
                head.headers.add(name: "content-length", value: String(total))
            }
            try await outbound.write(.head(head))
            var sent = 0
            while sent < total {
                let size = min(chunk, total - sent)
                var buffer = ByteBuffer()
                buffer.reserveCapacity(size)
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { pointer in
                    for i in 0..<size { pointer[i] = UInt8((sent + i) % 251) }
                    return size
                }
                try await outbound.write(.body(.byteBuffer(buffer)))
                sent += size
            }
        }
        try await outbound.write(.end(nil))
    }

    /// The pattern `.generated` bodies and the upstream's `/bytes` use.
    static func patternBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8($0 % 251) }
    }
}
