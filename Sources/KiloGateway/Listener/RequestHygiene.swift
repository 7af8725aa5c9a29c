import GatewayConfiguration
import NIOHTTP1

/// Checks on a request head that NIO's parser leaves to the application (DESIGN §8).
/// Pure: returns the problem, or `nil` with the headers possibly cleaned.
enum RequestHygiene {
    /// Validates `head` in place; returns a reason for a 400 when it must be refused.
    static func check(_ head: inout HTTPRequestHead, underscores: UnderscorePolicy) -> String? {
        var hosts = 0
        var underscored: [String] = []
        for (name, value) in head.headers {
            if name.utf8.count == 4 && name.lowercased() == "host" { hosts += 1 }
            if name.utf8.contains(UInt8(ascii: "_")) { underscored.append(name) }
            for byte in value.utf8 where (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                return "control character in header \(name)"
            }
        }
        if hosts > 1 { return "more than one Host header" }
        if head.version == .http1_1 && hosts == 0 { return "missing Host header" }
        if !underscored.isEmpty {
            switch underscores {
            case .allow:
                break
            case .drop:
                for name in underscored { head.headers.remove(name: name) }
            case .reject:
                return "header name with an underscore: \(underscored[0])"
            }
        }
        return nil
    }
}
