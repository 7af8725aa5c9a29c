import NIOCore
import NIOHTTP1

/// HTTP/1.1 on the wire, for the gateway's own encoders (`UpstreamRequestEncoder`,
/// `ClientResponseEncoder`): heads written with one capacity check and one copy per string,
/// bodies framed as chunks when the head says so.
enum WireFormat {
    /// Whether a head has `Content-Length` and `Transfer-Encoding` fields; names of other lengths
    /// are passed over without looking at their bytes.
    static func framingFields(of headers: HTTPHeaders) -> (hasLength: Bool, hasTransferEncoding: Bool) {
        var hasLength = false
        var hasTransferEncoding = false
        for (name, _) in headers {
            let count = name.utf8.count
            guard count == 14 || count == 17 else { continue }
            switch HeaderName(name) {
            case .contentLength: hasLength = true
            case .transferEncoding: hasTransferEncoding = true
            default: break
            }
        }
        return (hasLength, hasTransferEncoding)
    }

    /// Writes one body part: as it is, or as one chunk (the part itself is not copied into a
    /// chunk buffer). An empty part is passed on unframed: as a chunk it would end the body.
    static func writeBody(
        _ body: IOData, chunked: Bool, to outbox: SocketOutbox, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) {
        let count = body.readableBytes
        guard chunked && count > 0 else {
            outbox.write(body, context: context, promise: promise)
            return
        }
        outbox.write(context: context, promise: nil) { $0.writeChunkSize(count) }
        outbox.write(body, context: context, promise: nil)
        outbox.write(context: context, promise: promise) { $0.writeStaticString("\r\n") }
    }

    /// Ends a body: the last chunk and trailers when chunked, otherwise nothing (a promise is
    /// still completed in order, by an empty write).
    static func writeEnd(
        trailers: HTTPHeaders?, chunked: Bool, to outbox: SocketOutbox, context: ChannelHandlerContext,
        promise: EventLoopPromise<Void>?
    ) {
        guard chunked else {
            if let promise { outbox.write(.byteBuffer(ByteBuffer()), context: context, promise: promise) }
            return
        }
        outbox.write(context: context, promise: promise) { buffer in
            buffer.writeStaticString("0\r\n")
            buffer.writeHeaderFields(trailers ?? HTTPHeaders())
        }
    }
}

/// One of the gateway's HTTP/1 encoders: a pipeline handler, the first before the socket, that
/// its connection handler may also call directly — the same bytes in the same order, without
/// wrapping each part in `NIOAny` and casting it back. Its bytes go out through its ``SocketOutbox``.
protocol DirectHTTPEncoder: ChannelOutboundHandler, AnyObject where OutboundOut == IOData {
    /// The encoder's own context while it is in a pipeline.
    var encoderContext: ChannelHandlerContext? { get set }
    var outbox: SocketOutbox { get }
    func encode(_ part: OutboundIn, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?)
}

extension DirectHTTPEncoder {
    func handlerAdded(context: ChannelHandlerContext) {
        encoderContext = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        outbox.handOver(context: context)
        encoderContext = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        encode(unwrapOutboundIn(data), context: context, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        outbox.flush(context: context)
    }

    /// What was written goes out before the socket is shut (or closed).
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        outbox.flush(context: context)
        context.close(mode: mode, promise: promise)
    }

    /// Encodes a part as if it had been written down the pipeline (dropped once the encoder left it).
    func write(_ part: OutboundIn) {
        guard let encoderContext else { return }
        encode(part, context: encoderContext, promise: nil)
    }

    /// Flushes as a flush down the pipeline would, one hop fewer for the handler above the
    /// encoder. `false`: the encoder left the pipeline (the caller flushes its own way).
    @discardableResult
    func flush() -> Bool {
        guard let encoderContext else { return false }
        outbox.flush(context: encoderContext)
        return true
    }

    /// Passes a `read` on from the encoder's place (the encoder does nothing with it), one hop
    /// fewer for the handler above it; before a plain socket, straight to the channel's core.
    /// `false`: the encoder left the pipeline.
    func read() -> Bool {
        guard let encoderContext else { return false }
        if !outbox.read(context: encoderContext) { encoderContext.read() }
        return true
    }

    /// See ``SocketOutbox/writesDone(context:)``; `nil` also once the encoder left the pipeline.
    func writesDone() -> EventLoopFuture<Void>? {
        guard let encoderContext else { return nil }
        return outbox.writesDone(context: encoderContext)
    }

    /// Asks for the next read at the end of a read burst, before NIO does: the handler above
    /// calls it when it would pass NIO's `read` on. On a plain socket the read goes straight to
    /// the channel's core, and NIO, finding a read pending, skips its own trip through the
    /// pipeline (readIfNeeded0: about 900 instructions per read, bench/profile). Elsewhere (TLS)
    /// it does nothing, and NIO's read comes through the pipeline as usual.
    func readAhead() {
        guard let encoderContext else { return }
        _ = outbox.read(context: encoderContext)
    }
}

extension Optional where Wrapped: DirectHTTPEncoder {
    /// Flushes through the encoder while it is in the pipeline, else down it from `context`.
    func flush(orFrom context: ChannelHandlerContext?) {
        if self?.flush() != true { context?.flush() }
    }

    /// Reads on through the encoder's place while it is in the pipeline, else from `context`.
    func read(orFrom context: ChannelHandlerContext) {
        if self?.read() != true { context.read() }
    }
}

extension ByteBuffer {
    /// Writes `METHOD target HTTP/x.y`, the header fields and the empty line.
    mutating func writeRequestHead(_ head: HTTPRequestHead) {
        let method = head.method.rawValue
        let size = method.utf8.count + 1 + head.uri.utf8.count + 11 + HeadBytes.size(of: head.headers) + 2
        let version: StaticString = head.version == .http1_0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n"
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
            var out = HeadBytes(base: bytes.baseAddress!)
            out.put(string: method)
            out.put(" ")
            out.put(string: head.uri)
            out.put(version)
            out.put(fields: head.headers)
            out.putCRLF()
            return out.count
        }
    }

    /// Writes `HTTP/x.y code reason`, the header fields, `transfer-encoding: chunked` when asked,
    /// and the empty line.
    mutating func writeResponseHead(_ head: HTTPResponseHead, addingChunked: Bool) {
        let reason = head.status.reasonPhrase
        let code = head.status.code
        let size = 9 + 4 + reason.utf8.count + 2 + HeadBytes.size(of: head.headers) + (addingChunked ? 28 : 0) + 2
        let version: StaticString = head.version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 "
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
            var out = HeadBytes(base: bytes.baseAddress!)
            out.put(version)
            out.put(code: code)
            out.put(" ")
            out.put(string: reason)
            out.putCRLF()
            out.put(fields: head.headers)
            if addingChunked { out.put("transfer-encoding: chunked\r\n") }
            out.putCRLF()
            return out.count
        }
    }

    /// Writes a chunk's size line: the size in hexadecimal, then CRLF (no String made).
    mutating func writeChunkSize(_ size: Int) {
        let digits = max(1, (Int.bitWidth - size.leadingZeroBitCount + 3) / 4)
        writeWithUnsafeMutableBytes(minimumWritableBytes: digits + 2) { bytes in
            for index in 0..<digits {
                let nibble = (size >> (4 * (digits - 1 - index))) & 0xF
                bytes[index] = UInt8(nibble < 10 ? 48 + nibble : 87 + nibble)
            }
            bytes[digits] = 0x0D
            bytes[digits + 1] = 0x0A
            return digits + 2
        }
    }

    /// Writes header fields and the empty line that ends them.
    mutating func writeHeaderFields(_ headers: HTTPHeaders) {
        let size = HeadBytes.size(of: headers) + 2
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
            var out = HeadBytes(base: bytes.baseAddress!)
            out.put(fields: headers)
            out.putCRLF()
            return out.count
        }
    }
}

/// A write cursor over memory already sized for a whole head.
struct HeadBytes {
    let base: UnsafeMutableRawPointer
    var count = 0

    /// A String's bytes. (Labelled, so that a literal goes to the `StaticString` version.)
    mutating func put(string: String) {
        let base = self.base + count
        let copied = string.utf8.withContiguousStorageIfAvailable { utf8 -> Int in
            if let source = utf8.baseAddress { base.copyMemory(from: source, byteCount: utf8.count) }
            return utf8.count
        }
        if let copied {
            count += copied
        } else {
            for byte in string.utf8 {
                (self.base + count).storeBytes(of: byte, as: UInt8.self)
                count += 1
            }
        }
    }

    /// Bytes of `name: value\r\n` lines for these fields.
    static func size(of fields: HTTPHeaders) -> Int {
        var size = 0
        for (name, value) in fields { size += name.utf8.count + value.utf8.count + 4 }
        return size
    }

    /// Writes `name: value\r\n` for each field.
    mutating func put(fields: HTTPHeaders) {
        for (name, value) in fields {
            put(string: name)
            putColonSpace()
            put(string: value)
            putCRLF()
        }
    }

    /// A status code: three digits (`HTTPResponseStatus` codes are 100–999 on the wire).
    mutating func put(code: UInt) {
        let code = min(code, 999)
        base.storeBytes(of: UInt8(48 + code / 100), toByteOffset: count, as: UInt8.self)
        base.storeBytes(of: UInt8(48 + code / 10 % 10), toByteOffset: count + 1, as: UInt8.self)
        base.storeBytes(of: UInt8(48 + code % 10), toByteOffset: count + 2, as: UInt8.self)
        count += 3
    }

    /// Bytes `start..<end` of `source`.
    mutating func put(_ source: UnsafeRawBufferPointer, _ start: Int, _ end: Int) {
        (base + count).copyMemory(from: source.baseAddress! + start, byteCount: end - start)
        count += end - start
    }

    mutating func put(_ literal: StaticString) {
        (base + count).copyMemory(from: literal.utf8Start, byteCount: literal.utf8CodeUnitCount)
        count += literal.utf8CodeUnitCount
    }

    /// `\r\n`, stored as one two-byte word (no copy call for two bytes).
    mutating func putCRLF() {
        (base + count).storeBytes(of: UInt16(0x0A0D).littleEndian, as: UInt16.self)
        count += 2
    }

    /// `: ` after a field name.
    mutating func putColonSpace() {
        (base + count).storeBytes(of: UInt16(0x203A).littleEndian, as: UInt16.self)
        count += 2
    }
}
