import NIOHTTP1
import Testing

@testable import KiloGateway

@Suite struct RequestFramingTests {
    private func framing(_ headers: [(String, String)], method: HTTPMethod = .POST) -> Result<RequestFraming, RequestFraming.Problem> {
        RequestFraming.of(HTTPRequestHead(version: .http1_1, method: method, uri: "/", headers: HTTPHeaders(headers)))
    }

    @Test(arguments: [
        ([(String, String)](), RequestFraming.none),
        ([("Content-Length", "0")], .none),
        ([("Content-Length", "000")], .none),
        ([("Content-Length", "12")], .contentLength(12)),
        ([("content-length", "007")], .contentLength(7)),
        ([("Content-Length", "5"), ("Content-Length", "5")], .contentLength(5)),
        ([("Content-Length", "5, 5")], .contentLength(5)),
        ([("Transfer-Encoding", "chunked")], .chunked),
        ([("Transfer-Encoding", "Chunked")], .chunked),
        ([("Transfer-Encoding", " chunked ")], .chunked),
        ([("Content-Length", " 7 ")], .contentLength(7)),
    ])
    func accepts(_ headers: [(String, String)], _ expected: RequestFraming) {
        #expect(framing(headers) == .success(expected))
    }

    @Test(arguments: [
        ([("Content-Length", "5"), ("Transfer-Encoding", "chunked")], RequestFraming.Problem.contentLengthWithTransferEncoding),
        ([("Transfer-Encoding", "chunked"), ("Content-Length", "0")], .contentLengthWithTransferEncoding),
        ([("Content-Length", "5"), ("Content-Length", "6")], .conflictingContentLengths),
        ([("Content-Length", "5, 6")], .conflictingContentLengths),
        ([("Content-Length", "05"), ("Content-Length", "5")], .conflictingContentLengths),
        ([("Content-Length", "abc")], .invalidContentLength),
        ([("Content-Length", "5 5")], .invalidContentLength),
        ([("Content-Length", "-1")], .invalidContentLength),
        ([("Content-Length", "+5")], .invalidContentLength),
        ([("Content-Length", "0x10")], .invalidContentLength),
        ([("Content-Length", "1.5")], .invalidContentLength),
        ([("Content-Length", "99999999999999999999999")], .invalidContentLength),
        ([("Transfer-Encoding", "gzip")], .unsupportedTransferEncoding),
        // Only plain chunked: another coding could not be passed on intact after de-chunking.
        ([("Transfer-Encoding", "gzip, chunked")], .unsupportedTransferEncoding),
        ([("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")], .unsupportedTransferEncoding),
        ([("Transfer-Encoding", "chunked, gzip")], .unsupportedTransferEncoding),
        ([("Transfer-Encoding", "identity")], .unsupportedTransferEncoding),
        ([("Transfer-Encoding", "xchunked")], .unsupportedTransferEncoding),
    ])
    func refuses(_ headers: [(String, String)], _ problem: RequestFraming.Problem) {
        #expect(framing(headers) == .failure(problem))
    }

    /// `HTTPHeaders[canonicalForm:]` drops empty list elements, so these never reach the digit check.
    @Test(arguments: ["", "5,", ",5"])
    func refusesEmptyContentLengthElements(_ value: String) {
        #expect(framing([("Content-Length", value)]) == .failure(.invalidContentLength))
    }

    @Test func hasBody() {
        #expect(!RequestFraming.none.hasBody)
        #expect(RequestFraming.contentLength(1).hasBody)
        #expect(RequestFraming.chunked.hasBody)
    }
}
