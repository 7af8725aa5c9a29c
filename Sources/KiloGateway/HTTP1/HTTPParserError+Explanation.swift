import NIOHTTP1

extension HTTPParserError {
    /// What was wrong with the message, in words for whoever sent it (the error replies carry
    /// this instead of the case's name).
    var explanation: String {
        switch self {
        case .invalidMethod: "the method is missing or not a token"
        case .invalidURL: "the request target is missing or contains a space or control character"
        case .invalidVersion: "the version is not HTTP/1.x"
        case .invalidStatus: "the status line is not `HTTP/1.x`, a three-digit code and a reason"
        case .lfExpected: "a line does not end with CR LF (a bare LF or CR)"
        case .invalidHeaderToken:
            "a header line is malformed (a name that is not a token, whitespace before the colon, a folded line, "
                + "or a control character in a value)"
        case .invalidChunkSize: "a chunk size is not a hexadecimal number of at most 15 digits, or a chunk does not end with CR LF"
        case .invalidContentLength: "Content-Length is not a single number"
        case .unexpectedContentLength: "both Content-Length and Transfer-Encoding are set"
        case .invalidEOFState: "the connection closed in the middle of a message"
        case .headerOverflow: "the head is larger than the limit"
        case .invalidInternalState: "the gateway's parser lost its place in it (a gateway bug: please report it with the request)"
        default: "\(self)"
        }
    }
}
