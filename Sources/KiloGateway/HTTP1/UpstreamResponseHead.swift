import NIOCore
import NIOHTTP1

/// A response head as an upstream sent it: its bytes and where each field lies in them.
///
/// Most responses pass to the client with the same fields minus the hop-by-hop ones, so their
/// head is written straight from these bytes (``ByteBuffer/writeResponseHead(passingThrough:version:requestID:keepAlive:dropLength:addingChunked:)``)
/// and no String is made for a name or a value. The rest (redirects, informational responses,
/// upgrades, a `Location` to rewrite) ask for ``head``, NIO's type.
struct UpstreamResponseHead {
    let version: HTTPVersion
    let status: HTTPResponseStatus
    let raw: RawHead

    /// The fields as NIO's type, made on each call.
    var headers: HTTPHeaders { raw.headers }

    /// The head as NIO's type, made on each call.
    var head: HTTPResponseHead {
        HTTPResponseHead(version: version, status: status, headers: headers)
    }

    /// Whether the client's head can be written from these bytes: a final response that is not
    /// an upgrade, with no `Location` to rewrite and no header named in `Connection` to remove.
    static func passesThrough(_ status: HTTPResponseStatus, _ facts: ResponseHeadFacts) -> Bool {
        status.code >= 200 && status != .switchingProtocols && !facts.hasLocation && !facts.connectionNamesOthers
    }
}

extension ByteBuffer {
    /// Writes the client's head for a response that passes through (see
    /// ``UpstreamResponseHead/passesThrough(_:_:)``): the same bytes that
    /// `HeaderRewriter.clientResponseHead` and `writeResponseHead(_:addingChunked:)` produce
    /// together. The upstream's fields in order without the hop-by-hop ones (and without
    /// `Content-Length` when `dropLength`), then `x-request-id` unless the upstream sent one,
    /// `connection` as `keepAlive` and the client's version require, and the chunked coding when asked.
    mutating func writeResponseHead(
        passingThrough upstream: UpstreamResponseHead, version: HTTPVersion, requestID: RequestID, keepAlive: Bool,
        dropLength: Bool, addingChunked: Bool
    ) {
        let reason = upstream.status.reasonPhrase
        // The upstream's field lines are at most its head's size; then the status line and the added lines.
        let bound = upstream.raw.bytes.readableBytes + 16 + reason.utf8.count + 16 + requestID.utf8Count + 26 + 28
        let versionText: StaticString = version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 "
        _ = upstream.raw.bytes.withUnsafeReadableBytes { source in
            writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { bytes in
                var out = HeadBytes(base: bytes.baseAddress!)
                out.put(versionText)
                out.put(code: upstream.status.code)
                out.put(" ")
                out.put(string: reason)
                out.putCRLF()
                var hasRequestID = false
                for field in upstream.raw.fields {
                    switch field.kind {
                    case .connection, .transferEncoding, .otherHopByHop: continue
                    case .contentLength where dropLength: continue
                    case .xRequestID: hasRequestID = true
                    default: break
                    }
                    out.put(field: field, from: source)
                }
                if !hasRequestID { out.put("x-request-id: ", requestID) }
                if !keepAlive {
                    out.put("connection: close\r\n")
                } else if version == .http1_0 {
                    out.put("connection: keep-alive\r\n")
                }
                if addingChunked { out.put("transfer-encoding: chunked\r\n") }
                out.putCRLF()
                return out.count
            }
        }
    }
}
