import Foundation

/// The demo upstream's whoami echo, decoded.
struct EchoReply: Decodable {
    var method: String
    var uri: String
    var path: String
    var query: String?
    var headers: [[String]]
    var bodyLength: Int
    var bodySHA256: String

    init(_ response: TestResponse) throws {
        self = try JSONDecoder().decode(EchoReply.self, from: Data(response.text.utf8))
    }

    /// Every value of a header, matched case-insensitively.
    func values(_ name: String) -> [String] {
        headers.filter { $0.first?.lowercased() == name.lowercased() }.compactMap { $0.last }
    }

    func value(_ name: String) -> String? { values(name).first }
}
