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
        let lengths = head.headers[canonicalForm: "content-length"]
        let codings = head.headers[canonicalForm: "transfer-encoding"]
        if !codings.isEmpty {
            if !lengths.isEmpty { return .failure(.contentLengthWithTransferEncoding) }
            guard codings.last?.lowercased() == "chunked" else { return .failure(.unsupportedTransferEncoding) }
            return .success(.chunked)
        }
        guard let first = lengths.first else { return .success(.none) }
        for other in lengths.dropFirst() where other != first {
            return .failure(.conflictingContentLengths)
        }
        guard !first.isEmpty, first.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let length = Int(first)
        else { return .failure(.invalidContentLength) }
        return .success(length == 0 ? .none : .contentLength(length))
    }

    /// Whether the request carries body bytes.
    var hasBody: Bool { self != .none }
}
