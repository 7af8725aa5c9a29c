import NIOCore
import NIOHTTP1

/// A head as it arrived: its bytes and where each field lies in them, so that it can be passed
/// on (fields dropped, fields added) without a String per name and value.
struct RawHead {
    /// One field: offsets of its name and trimmed value in `bytes`, and what the name is.
    struct Field {
        let nameStart: Int32
        let nameEnd: Int32
        let valueStart: Int32
        let valueEnd: Int32
        let kind: HeaderName

        init(name: Range<Int>, value: Range<Int>, kind: HeaderName) {
            nameStart = Int32(truncatingIfNeeded: name.lowerBound)
            nameEnd = Int32(truncatingIfNeeded: name.upperBound)
            valueStart = Int32(truncatingIfNeeded: value.lowerBound)
            valueEnd = Int32(truncatingIfNeeded: value.upperBound)
            self.kind = kind
        }
    }

    /// The head as received, start line to empty line.
    let bytes: ByteBuffer
    let fields: [Field]

    /// The fields as NIO's type, made on each call.
    var headers: HTTPHeaders {
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(fields.count)
        for field in fields {
            pairs.append((string(field.nameStart, field.nameEnd), string(field.valueStart, field.valueEnd)))
        }
        return HTTPHeaders(pairs)
    }

    /// A request head's fields: its own, or, when the parser left them out of it, these.
    static func fields(of head: HTTPRequestHead, raw: RawHead?) -> HTTPHeaders {
        if let raw, head.headers.isEmpty, !raw.fields.isEmpty { return raw.headers }
        return head.headers
    }

    private func string(_ start: Int32, _ end: Int32) -> String {
        bytes.getString(at: bytes.readerIndex + Int(start), length: Int(end - start)) ?? ""
    }
}

extension HeadBytes {
    /// A field line the gateway adds: `prefix` is the name with its `: `.
    mutating func put(_ prefix: StaticString, _ value: String) {
        put(prefix)
        put(string: value)
        putCRLF()
    }

    /// `name: value\r\n` for a field of a raw head whose bytes are `source`.
    mutating func put(field: RawHead.Field, from source: UnsafeRawBufferPointer) {
        put(source, Int(field.nameStart), Int(field.nameEnd))
        putColonSpace()
        put(source, Int(field.valueStart), Int(field.valueEnd))
        putCRLF()
    }
}
