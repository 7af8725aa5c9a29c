/// Makes request ids without a system call per request: a SplitMix64 stream seeded once from
/// the system's random source, one generator per event loop.
struct RequestIDGenerator {
    private var state: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    /// A 32-hex-digit id.
    mutating func next() -> RequestID {
        let high = nextWord()
        return RequestID(high: high, low: nextWord())
    }

    /// The eight lowercase hex digits of `value`, most significant first, as the bytes of a word
    /// in memory order: each nibble is spread into a byte of its own, then all eight become
    /// digits at once (a loop over the 32 nibbles of an id cost about 250 instructions).
    static func hexDigits(_ value: UInt32) -> UInt64 {
        var nibbles = UInt64(value)
        nibbles = (nibbles & 0xFFFF_0000) << 16 | (nibbles & 0x0000_FFFF)
        nibbles = (nibbles & 0x0000_FF00_0000_FF00) << 8 | (nibbles & 0x0000_00FF_0000_00FF)
        nibbles = (nibbles & 0x00F0_00F0_00F0_00F0) << 4 | (nibbles & 0x000F_000F_000F_000F)
        // Each byte holds a nibble now (the most significant in the highest byte); 1 where it is 10 or more:
        let letters = ((nibbles &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        let digits = nibbles &+ 0x3030_3030_3030_3030 &+ letters &* 39  // "0" + n, or "a" + n - 10
        return digits.bigEndian  // the highest byte first in memory
    }

    /// Keeps a client's `X-Request-ID` when it is a plausible id, so ids survive across hops.
    static func isAcceptable(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard (1...128).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
        }
    }

    mutating func nextWord() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

}
