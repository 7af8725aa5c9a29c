import NIOCore
import NIOHTTP1

/// The JSON body of an error the gateway answers itself: `{"error", "service", "requestId"}`.
enum ErrorReply {
    /// Encodes the error body.
    static func body(error: GatewayError, service: String?, requestID: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var json = JSONWriter()
        json.beginObject()
        json.field("error", error.message)
        json.field("code", error.code)
        if let service { json.field("service", service) } else { json.nullField("service") }
        json.field("requestId", requestID)
        json.endObject()
        return allocator.buffer(string: json.output)
    }

    /// The head for an error reply carrying `length` bytes of JSON.
    static func head(
        error: GatewayError, length: Int, version: HTTPVersion, requestID: String, keepAlive: Bool
    ) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(length))
        headers.add(name: "x-request-id", value: requestID)
        if error.status == .serviceUnavailable { headers.add(name: "retry-after", value: "1") }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        return HTTPResponseHead(version: version, status: error.status, headers: headers)
    }
}
