import NIOCore
import NIOHTTP1

/// Serialises requests to an upstream: NIO's `HTTPRequestEncoder` without its framing
/// corrections (the gateway sets `Content-Length`/`Transfer-Encoding` itself when it builds the
/// head) and with a head written in one copy per string instead of a capacity check per piece.
///
/// It sits where `HTTPRequestEncoder` would, below the response decoder, which sees each request
/// head go by (it needs the method to frame a response to `HEAD`).
final class UpstreamRequestEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    private var isChunked = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            isChunked = head.headers.contains { HeaderName($0.name) == .transferEncoding }
            var buffer = context.channel.allocator.buffer(capacity: 0)
            buffer.writeRequestHead(head)
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
        case .body(let body):
            let count = body.readableBytes
            guard isChunked && count > 0 else {
                // An empty chunk would end a chunked body; it still completes its promise in order.
                context.write(wrapOutboundOut(body), promise: promise)
                return
            }
            var prefix = context.channel.allocator.buffer(capacity: 18)
            prefix.writeString(String(count, radix: 16))
            prefix.writeStaticString("\r\n")
            context.write(wrapOutboundOut(.byteBuffer(prefix)), promise: nil)
            context.write(wrapOutboundOut(body), promise: nil)
            var suffix = context.channel.allocator.buffer(capacity: 2)
            suffix.writeStaticString("\r\n")
            context.write(wrapOutboundOut(.byteBuffer(suffix)), promise: promise)
        case .end(let trailers):
            guard isChunked else {
                if let promise { context.write(wrapOutboundOut(.byteBuffer(ByteBuffer())), promise: promise) }
                return
            }
            isChunked = false
            var buffer = context.channel.allocator.buffer(capacity: 5)
            buffer.writeStaticString("0\r\n")
            buffer.writeHeaderFields(trailers ?? HTTPHeaders())
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
        }
    }
}

extension ByteBuffer {
    /// Writes `METHOD target HTTP/x.y`, the header fields and the empty line.
    mutating func writeRequestHead(_ head: HTTPRequestHead) {
        let method = head.method.rawValue
        var size = method.utf8.count + 1 + head.uri.utf8.count + 11
        for (name, value) in head.headers { size += name.utf8.count + value.utf8.count + 4 }
        size += 2
        let version: StaticString = head.version == .http1_0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n"
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
            var out = HeadBytes(base: bytes.baseAddress!)
            out.put(method)
            out.put(" ")
            out.put(head.uri)
            out.put(version)
            for (name, value) in head.headers {
                out.put(name)
                out.put(": ")
                out.put(value)
                out.put("\r\n")
            }
            out.put("\r\n")
            return out.count
        }
    }

    /// Writes header fields and the empty line that ends them.
    mutating func writeHeaderFields(_ headers: HTTPHeaders) {
        var size = 2
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
            var out = HeadBytes(base: bytes.baseAddress!)
            for (name, value) in headers {
                out.put(name)
                out.put(": ")
                out.put(value)
                out.put("\r\n")
            }
            out.put("\r\n")
            return out.count
        }
    }
}

/// A write cursor over memory already sized for a whole head.
private struct HeadBytes {
    let base: UnsafeMutableRawPointer
    var count = 0

    mutating func put(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            guard let source = utf8.baseAddress else { return }
            (base + count).copyMemory(from: source, byteCount: utf8.count)
            count += utf8.count
        }
    }

    mutating func put(_ literal: StaticString) {
        (base + count).copyMemory(from: literal.utf8Start, byteCount: literal.utf8CodeUnitCount)
        count += literal.utf8CodeUnitCount
    }
}
