/// An HTTP/1.x response parsed from raw bytes by the tests, independently of NIO's decoder.
struct RawResponse: Sendable {
    var version: String
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    /// The body was delimited by the connection closing rather than by framing.
    var closeDelimited: Bool

    var bodyText: String { String(decoding: self.body, as: UTF8.self) }

    func values(_ name: String) -> [String] {
        self.headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    func value(_ name: String) -> String? {
        self.values(name).first
    }

    /// Parses one response from the front of `bytes`; nil while incomplete. Returns the bytes it used.
    static func parse(_ bytes: [UInt8], isHeadRequest: Bool, connectionClosed: Bool) -> (RawResponse, Int)? {
        guard let headEnd = find([13, 10, 13, 10], in: bytes, from: 0) else { return nil }
        let headLines = String(decoding: bytes[..<headEnd], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = headLines[0].split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [(String, String)] = []
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingSpaces))
        }
        var response = RawResponse(version: String(statusLine[0]), status: status, headers: headers, body: [], closeDelimited: false)
        let bodyStart = headEnd + 4

        if isHeadRequest || (100..<200).contains(status) || status == 204 || status == 304 {
            return (response, bodyStart)
        }
        if let length = response.value("content-length").flatMap({ Int($0) }) {
            guard bytes.count >= bodyStart + length else { return nil }
            response.body = Array(bytes[bodyStart..<(bodyStart + length)])
            return (response, bodyStart + length)
        }
        if response.value("transfer-encoding")?.lowercased() == "chunked" {
            var offset = bodyStart
            while true {
                guard let lineEnd = find([13, 10], in: bytes, from: offset) else { return nil }
                let sizeText = String(decoding: bytes[offset..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText, radix: 16) else { return nil }
                offset = lineEnd + 2
                if size == 0 {
                    // No trailers expected from the demo upstream: just the final CRLF.
                    guard bytes.count >= offset + 2 else { return nil }
                    return (response, offset + 2)
                }
                guard bytes.count >= offset + size + 2 else { return nil }
                response.body += bytes[offset..<(offset + size)]
                offset += size + 2
            }
        }
        guard connectionClosed else { return nil }
        response.body = Array(bytes[bodyStart...])
        response.closeDelimited = true
        return (response, bytes.count)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
