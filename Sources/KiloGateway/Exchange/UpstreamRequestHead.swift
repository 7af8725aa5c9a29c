import NIOCore
import NIOHTTP1

/// The head an exchange sends upstream, kept as what it is made of: the client's head, the
/// current endpoint's target and authority, the body framing and the forwarding facts. A head
/// from an HTTP/1 client is written from the client's bytes (no String per field, no second
/// list of fields); otherwise, and once a followed redirect rewrote it, from NIO's type.
///
/// A class: the exchange keeps it and hands it to the connection's writer, and each copy of a
/// struct of it would retain every String and buffer it holds.
final class UpstreamRequestHead {
    let client: HTTPRequestHead
    /// The client head's bytes, when it came from the HTTP/1 parser.
    let raw: RawHead?
    var target: String
    var authority: String
    let framing: RequestFraming
    let facts: HeaderRewriter.ClientFacts
    /// A `Connection` field of the client's names other fields (to be removed too).
    let connectionNamesOthers: Bool

    init(
        client: HTTPRequestHead, raw: RawHead?, target: String, authority: String, framing: RequestFraming,
        facts: HeaderRewriter.ClientFacts, connectionNamesOthers: Bool
    ) {
        self.client = client
        self.raw = raw
        self.target = target
        self.authority = authority
        self.framing = framing
        self.facts = facts
        self.connectionNamesOthers = connectionNamesOthers
    }

    /// NIO's type, built on each call (`HeaderRewriter.upstreamRequestHead`).
    var head: HTTPRequestHead {
        var client = self.client
        client.headers = RawHead.fields(of: client, raw: raw)  // the parser may have left them in the bytes only
        return HeaderRewriter.upstreamRequestHead(from: client, target: target, upstreamAuthority: authority, framing: framing, facts: facts)
    }

    /// The head can be written from the client's bytes: it came from the HTTP/1 parser, the peer
    /// is not a trusted proxy (whose `X-Forwarded-*` would be merged) and no field is named in
    /// `Connection`.
    var passesThrough: Bool { raw != nil && !facts.trustForwardedHeaders && !connectionNamesOthers }

    /// Writes the head: from the client's bytes when it ``passesThrough``, else from NIO's type.
    func write(into buffer: inout ByteBuffer) {
        if passesThrough, let raw {
            buffer.writeRequestHead(passingThrough: self, raw: raw)
        } else {
            buffer.writeRequestHead(head)
        }
    }
}

extension ByteBuffer {
    /// Writes the head `request.head` and `writeRequestHead(_:)` would write, from the client's
    /// bytes: the client's fields in order without the hop-by-hop ones, `Content-Length`,
    /// `Expect`, `X-Request-ID`, `Host` and `X-Forwarded-*`, then `host`, `x-forwarded-for`,
    /// `-proto` and `-host`, `x-request-id`, the upgrade the client asked for and the framing.
    /// Only for a head that ``UpstreamRequestHead/passesThrough``.
    mutating func writeRequestHead(passingThrough request: UpstreamRequestHead, raw: RawHead) {
        let method = request.client.method.rawValue
        let facts = request.facts
        let length: String? =
            switch request.framing {
            case .contentLength(let length): String(length)
            case .none where HeaderRewriter.methodExpectsBody(request.client.method): "0"
            default: nil
            }
        // The client's field lines are at most its head's size; one of them may be repeated as
        // x-forwarded-host; the rest is the request line and the added lines.
        let bound =
            method.utf8.count + request.target.utf8.count + 2 * raw.bytes.readableBytes + request.authority.utf8.count
            + (facts.address?.utf8.count ?? 0) + facts.scheme.utf8.count + facts.requestID.utf8Count
            + (facts.upgrade?.utf8.count ?? 0) + (length?.utf8.count ?? 0) + 256
        _ = raw.bytes.withUnsafeReadableBytes { source in
            writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { bytes in
                var out = HeadBytes(base: bytes.baseAddress!)
                out.put(string: method)
                out.put(" ")
                out.put(string: request.target)
                out.put(" HTTP/1.1\r\n")
                var originalHost: RawHead.Field?
                for field in raw.fields {
                    switch field.kind {
                    case .connection, .transferEncoding, .otherHopByHop, .contentLength, .expect, .xRequestID:
                        continue
                    case .host:
                        if originalHost == nil { originalHost = field }
                    case .xForwardedFor, .xForwardedProto, .xForwardedHost:
                        continue  // from anyone but a trusted proxy, replaced by what the gateway saw
                    default:
                        out.put(field: field, from: source)
                    }
                }
                out.put("host: ", request.authority)
                if let address = facts.address { out.put("x-forwarded-for: ", address) }
                out.put("x-forwarded-proto: ", facts.scheme)
                if let host = originalHost {
                    out.put("x-forwarded-host: ")
                    out.put(source, Int(host.valueStart), Int(host.valueEnd))
                    out.putCRLF()
                }
                out.put("x-request-id: ", facts.requestID)
                if let upgrade = facts.upgrade { out.put("connection: upgrade\r\nupgrade: ", upgrade) }
                if let length {
                    out.put("content-length: ", length)
                } else if request.framing == .chunked {
                    out.put("transfer-encoding: chunked\r\n")
                }
                out.putCRLF()
                return out.count
            }
        }
    }
}
