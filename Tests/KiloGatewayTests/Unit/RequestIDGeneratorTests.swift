import NIOCore
import Testing

@testable import KiloGateway

@Suite struct RequestIDGeneratorTests {
    @Test func idsAre32LowercaseHexDigits() {
        var generator = RequestIDGenerator()
        for _ in 0..<1_000 {
            let id = generator.next().description
            #expect(id.utf8.count == 32)
            #expect(id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, "\(id)")
            #expect(RequestIDGenerator.isAcceptable(id))
        }
    }

    /// An id goes on the wire without becoming a String first: the bytes must be its text.
    @Test func anIDIsWrittenAsItsText() {
        var generator = RequestIDGenerator()
        for id in [generator.next(), generator.next(), RequestID("client-id.1"), ""] {
            var buffer = ByteBuffer()
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64) { bytes in
                var out = HeadBytes(base: bytes.baseAddress!)
                out.put("x-request-id: ", id)
                return out.count
            }
            #expect(String(buffer: buffer) == "x-request-id: \(id.description)\r\n")
            #expect(id.utf8Count == id.description.utf8.count)
        }
    }

    @Test func idsAreDistinctWithinAndAcrossGenerators() {
        var first = RequestIDGenerator()
        var second = RequestIDGenerator()
        var seen = Set<String>()
        for _ in 0..<5_000 {
            seen.insert(first.next().description)
            seen.insert(second.next().description)
        }
        #expect(seen.count == 10_000)
    }

    @Test func idsKeepLeadingZeros() {
        // Over many ids some word starts with a zero nibble; every id must still be 32 digits.
        var generator = RequestIDGenerator()
        var sawLeadingZero = false
        for _ in 0..<2_000 {
            let id = generator.next().description
            #expect(id.utf8.count == 32)
            if id.hasPrefix("0") || id.dropFirst(16).hasPrefix("0") { sawLeadingZero = true }
        }
        #expect(sawLeadingZero)
    }

    /// The digits of a word, checked against the standard library's formatting, for every
    /// nibble value in every position and for random words.
    @Test func hexDigitsMatchTheStandardLibrary() {
        var values: [UInt32] = [0, .max, 0x0123_4567, 0x89AB_CDEF, 0xFEDC_BA98, 0x7654_3210]
        for nibble in UInt32(0)..<16 {
            for position in UInt32(0)..<8 { values.append(nibble << (position * 4)) }
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<1_000 { values.append(random.next()) }
        for value in values {
            let word = RequestIDGenerator.hexDigits(value)
            let digits = withUnsafeBytes(of: word) { String(decoding: $0, as: UTF8.self) }
            let expected = String(value, radix: 16)
            #expect(digits == String(repeating: "0", count: 8 - expected.count) + expected)
        }
    }

    @Test(arguments: [
        "a", "0123456789abcdef0123456789abcdef", "ABC-def_1.2:3", "req-1", String(repeating: "x", count: 128),
        "550e8400-e29b-41d4-a716-446655440000",
    ])
    func acceptsPlausibleIDs(_ id: String) {
        #expect(RequestIDGenerator.isAcceptable(id))
    }

    @Test(arguments: [
        "", String(repeating: "x", count: 129), "a b", "a\r\nX-Injected: 1", "a\"b", "a,b", "a;b", "é", "a/b", "a\u{0}",
        "{\"json\":1}",
    ])
    func refusesOtherIDs(_ id: String) {
        #expect(!RequestIDGenerator.isAcceptable(id))
    }
}
