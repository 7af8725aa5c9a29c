#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where access-log lines go: one JSON object per request.
public struct AccessLog: Sendable {
    private let sink: @Sendable (String) -> Void

    /// A log that hands each line (without newline) to `sink`.
    public init(sink: @escaping @Sendable (String) -> Void) {
        self.sink = sink
    }

    /// Writes each line to standard output with a single `write(2)`, so lines from several
    /// event loops never interleave.
    public static let standardOutput = AccessLog { line in
        var line = line
        line.append("\n")
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    func write(_ line: String) {
        sink(line)
    }
}

/// The facts of one finished request, rendered as one JSON line.
struct AccessLogEntry {
    var requestID: String
    var method: String
    var path: Substring
    var service: String?
    var status: Int
    var attempts: Int
    var bytesIn: Int
    var bytesOut: Int
    var durationSeconds: Double
    var upstream: String?
    var error: String?

    func render() -> String {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.field("type", "access")
        json.field("requestId", requestID)
        json.field("method", method)
        json.field("path", String(path))
        if let service { json.field("service", service) }
        json.field("status", status)
        json.field("attempts", attempts)
        json.field("bytesIn", bytesIn)
        json.field("bytesOut", bytesOut)
        json.field("durationMs", durationSeconds * 1000, decimals: 3)
        if let upstream { json.field("upstream", upstream) }
        if let error { json.field("error", error) }
        json.endObject()
        return json.output
    }
}
