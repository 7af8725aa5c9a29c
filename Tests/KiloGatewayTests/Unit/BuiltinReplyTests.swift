import Foundation
import NIOHTTP1
import Testing

@testable import KiloGateway

@Suite struct BuiltinReplyTests {
    @Test(arguments: [
        // endpoint, draining, status, body
        (BuiltinEndpoint.health, false, HTTPResponseStatus.ok, #"{"status":"ok"}"#),
        (.health, true, .ok, #"{"status":"ok"}"#),
        (.liveness, false, .ok, #"{"status":"ok"}"#),
        (.liveness, true, .ok, #"{"status":"ok"}"#),
        (.readiness, false, .ok, #"{"status":"ready"}"#),
        (.readiness, true, .serviceUnavailable, #"{"status":"draining"}"#),
    ])
    func replies(_ endpoint: BuiltinEndpoint, _ draining: Bool, _ status: HTTPResponseStatus, _ body: String) throws {
        let reply = BuiltinReply.reply(for: endpoint, draining: draining)
        #expect(reply.status == status)
        #expect(reply.body == body)
        let parsed = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: String]
        #expect(parsed?["status"] != nil)
    }
}
