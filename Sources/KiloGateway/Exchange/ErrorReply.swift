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
}
