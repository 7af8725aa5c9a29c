import NIOCore
import Testing

@testable import KiloGateway

#if canImport(Glibc)
import Glibc
#endif

@Suite struct StartupPagesTests {
    /// The executable's code pages are given back and the process runs on: the code it needs is
    /// mapped again on first use.
    @Test func releasesTheExecutablesCodeAndKeepsRunning() throws {
        #if os(Linux)
        let before = try Self.residentCodeKiB()
        let released = StartupPages.release()
        let after = try Self.residentCodeKiB()
        #expect(released > 0)
        #expect(after < before)
        // Code runs again after the release (faulted back in from the page cache).
        var parser = HTTP1Parser(mode: .request, maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        guard case .requestHead(let head, _) = try parser.next(&buffer) else {
            Issue.record("no head")
            return
        }
        #expect(head.uri == "/")
        #endif
    }

    /// Resident KiB of the executable's read-and-execute mappings, from /proc/self/smaps.
    static func residentCodeKiB() throws -> Int {
        let executable = try #require(realpath("/proc/self/exe", nil))
        defer { free(executable) }
        let path = String(cString: executable)
        let file = try #require(fopen("/proc/self/smaps", "r"))
        defer { fclose(file) }
        var total = 0
        var inCode = false
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5 {
                inCode = fields.count >= 6 && fields[1] == "r-xp" && fields[5].filter { !$0.isWhitespace } == path
            } else if inCode, fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                total += kib
            }
        }
        return total
    }
}
