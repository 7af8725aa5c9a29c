import Testing

@testable import KiloGateway

@Suite struct ByteRegionTests {
    /// The eight-bytes-at-a-time check answers as the byte-by-byte rule does, for every byte
    /// value at every position of words and tails, and for random mixes.
    @Test(arguments: [(UInt8(0x20), true), (UInt8(0x21), false)])
    func wordCheckMatchesTheByteRule(lowest: UInt8, tabs: Bool) {
        func byteRule(_ bytes: [UInt8]) -> Bool {
            bytes.allSatisfy { ($0 >= lowest && $0 != 0x7F) || (tabs && $0 == 0x09) }
        }
        func check(_ bytes: [UInt8]) {
            let answer = bytes.withUnsafeBufferPointer { buffer in
                ByteRegion(buffer.baseAddress!, count: buffer.count).allAtLeast(lowest, noDEL: 0..<buffer.count, tabs: tabs)
            }
            #expect(answer == byteRule(bytes), "\(bytes)")
        }
        for length in [1, 7, 8, 9, 16, 19] {
            for position in 0..<length {
                for value in UInt8.min...UInt8.max {
                    var bytes = [UInt8](repeating: 0x61, count: length)
                    bytes[position] = value
                    check(bytes)
                }
            }
        }
        var random = SeededRandom(seed: 7)
        let interesting: [UInt8] = [0x00, 0x09, 0x1F, 0x20, 0x21, 0x61, 0x7E, 0x7F, 0x80, 0xA0, 0xFF]
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 1...40, using: &random)).map { _ in interesting.randomElement(using: &random)! }
            check(bytes)
        }
    }
}
