import NIOHTTP1

/// How a request body is delimited, as decided from the client's request head.
enum RequestFraming: Equatable {
    /// No body at all.
    case none
    /// A body of exactly this many bytes.
    case contentLength(Int)
    /// A chunked body of unknown length.
    case chunked

    /// Why a request's framing headers are refused (400 and close, DESIGN §8).
    enum Problem: Error, Equatable {
        case contentLengthWithTransferEncoding
        case conflictingContentLengths
        case invalidContentLength
        case unsupportedTransferEncoding
    }

    /// Reads the framing from a request head, refusing ambiguous combinations.
    static func of(_ head: HTTPRequestHead) -> Result<RequestFraming, Problem> {
        // Raw values, not the canonical (comma-split) form, which silently drops empty elements.
        let lengths = head.headers["content-length"]
        if head.headers.contains(name: "transfer-encoding") {
            let codings = head.headers[canonicalForm: "transfer-encoding"]
            if !lengths.isEmpty { return .failure(.contentLengthWithTransferEncoding) }
            // Only plain `chunked`: another coding could not be passed on intact after de-chunking.
            guard codings.count == 1, codings[0].lowercased() == "chunked" else { return .failure(.unsupportedTransferEncoding) }
            return .success(.chunked)
        }
        guard !lengths.isEmpty else { return .success(.none) }
        var elements: [Substring] = []
        for value in lengths {
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let trimmed = element.trimmingSpaces
                guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                    return .failure(.invalidContentLength)
                }
                elements.append(trimmed)
            }
        }
        let first = elements[0]
        for other in elements.dropFirst() where other != first {
            return .failure(.conflictingContentLengths)
        }
        guard let length = Int(first) else { return .failure(.invalidContentLength) }
        return .success(length == 0 ? .none : .contentLength(length))
    }

    /// Whether the request carries body bytes.
    var hasBody: Bool { self != .none }
}


/// What the gateway reads from a request head besides its fields: how its body is delimited and
/// whether the connection may carry another request after it. The HTTP/1 parser gathers these
/// while it reads the fields; heads from elsewhere (HTTP/2, a queued pipelined request) get them
/// from the parsed head with ``of(_:)``.
struct RequestHeadFacts {
    var framing: Result<RequestFraming, RequestFraming.Problem>
    /// The client asked for a persistent connection (RFC 9112 §9.3), and after this request the
    /// bytes that follow are still HTTP (not an upgrade or CONNECT).
    var keepAlive: Bool
    /// `RequestHygiene` may find something: not exactly one `Host`, or a name with an underscore
    /// (the parser already refused control characters). `true` when not known.
    var needsHygiene = true
    /// Fields the exchange looks for; `true` when not known.
    var mayHaveRequestID = true
    var mayHaveExpect = true
    var mayHaveUpgrade = true
    /// A `Connection` field names other fields; `true` when not known.
    var connectionNamesOthers = true
    /// The head's bytes and fields, when it came from the HTTP/1 parser: the upstream head is
    /// then written from them (see `UpstreamRequestHead`). When none of the checks above needs
    /// them, the parser leaves the head's own `headers` empty: they are only here.
    var raw: RawHead?

    static func of(_ head: HTTPRequestHead) -> RequestHeadFacts {
        RequestHeadFacts(framing: RequestFraming.of(head), keepAlive: head.isKeepAlive && !UpgradeRequest.endsHTTPParsing(head))
    }
}
