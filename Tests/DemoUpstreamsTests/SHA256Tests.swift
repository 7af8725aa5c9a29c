import Testing

@testable import DemoUpstreams

@Suite struct SHA256Tests {
    @Test func emptyMessage() {
        #expect(SHA256.hexDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func abc() {
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func twoBlockMessage() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(SHA256.hexDigest(Array(message.utf8)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func oneMillionAs() {
        var hasher = SHA256()
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 {
            hasher.update(thousand)
        }
        #expect(SHA256.hex(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalFeedingMatchesOneShot() {
        let message = (0..<1000).map { UInt8($0 % 251) }
        let expected = SHA256.hexDigest(message)
        // Split points straddle the 55/56/64-byte padding edges.
        for split in [0, 1, 55, 56, 63, 64, 65, 127, 128, 999] {
            var hasher = SHA256()
            hasher.update(Array(message[..<split]))
            hasher.update(Array(message[split...]))
            #expect(SHA256.hex(hasher.finalize()) == expected, "split at \(split)")
        }
        for length in 54...66 {
            var oneByteAtATime = SHA256()
            for byte in message[..<length] { oneByteAtATime.update([byte]) }
            #expect(SHA256.hex(oneByteAtATime.finalize()) == SHA256.hexDigest(Array(message[..<length])))
        }
    }
}
