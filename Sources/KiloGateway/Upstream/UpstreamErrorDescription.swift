import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Short, human descriptions of upstream failures for error replies and logs
/// ("connection refused", "DNS lookup failed for kilo-meds") instead of NIO's debug dumps.
enum UpstreamErrorDescription {
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return describe(first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                return "DNS lookup failed for \(error.host)"
            }
            return "cannot connect to \(error.host):\(error.port)"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as HTTPParserError:
            return "malformed HTTP response: \(error.explanation)"
        case is ChannelError:
            if case ChannelError.connectTimeout = error { return "connect timeout" }
            return "\(error)"
        default:
            return "\(error)"
        }
    }
}
