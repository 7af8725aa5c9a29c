import NIOHTTP1
import Testing

@testable import KiloGateway

@Suite struct UpstreamErrorDescriptionTests {
    /// A malformed upstream response is described in words in the 502's message.
    @Test func malformedResponsesAreDescribedInWords() {
        #expect(
            UpstreamErrorDescription.describe(HTTPParserError.unexpectedContentLength)
                == "malformed HTTP response: both Content-Length and Transfer-Encoding are set")
        #expect(
            UpstreamErrorDescription.describe(HTTPParserError.invalidStatus)
                == "malformed HTTP response: the status line is not `HTTP/1.x`, a three-digit code and a reason")
    }
}
