#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network such as `10.42.0.0/16` or `fd00::/8`, as used by `trustedProxies:`.
///
/// IPv4 is handled as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), which is what a dual-stack
/// socket reports for an IPv4 peer: `10.0.0.0/8` contains both `10.0.0.1` and `::ffff:10.0.0.1`.
/// The other side of that coin: an IPv6 network that covers `::ffff:0:0/96` (`::/0` does) also
/// contains every IPv4 address.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address, 128 bits in two halves, with every bit past the prefix zero.
    private let high: UInt64
    private let low: UInt64
    /// Prefix length over the 128 bits (an IPv4 `/16` is 112 here).
    private let length: Int

    /// Parses `address/prefix`, or a bare address meaning that one host (`/32` or `/128`).
    ///
    /// Nil for anything else, including a network with bits set past its prefix (`10.42.1.0/16`).
    public init?(_ text: String) {
        guard let cidr = try? CIDR(configuration: text) else { return nil }
        self = cidr
    }

    /// Whether the network is an IPv4 one (written as `a.b.c.d/n` or `::ffff:a.b.c.d/n` with n ≥ 96).
    public var isIPv4: Bool { length >= 96 && Self.isMapped(high: high, low: low) }

    /// The prefix length as written for the network's family (`16` for `10.42.0.0/16`).
    public var prefixLength: Int { isIPv4 ? length - 96 : length }

    /// Whether `address`, an IPv4 or IPv6 literal (brackets and an IPv6 `%zone` allowed), lies in this network.
    /// False for anything that is not an IP literal.
    public func contains(_ address: String) -> Bool {
        var text = Substring(address)
        if text.first == "[", text.last == "]" { text = text.dropFirst().dropLast() }
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }
        guard let (high, low) = Self.parseAddress(text) else { return false }
        let (maskHigh, maskLow) = Self.mask(length)
        return high & maskHigh == self.high && low & maskLow == self.low
    }

    /// `10.42.0.0/16`, `fd00::/8`: canonical text, IPv4-mapped networks written as IPv4.
    public var description: String {
        if isIPv4 {
            let v4 = UInt32(truncatingIfNeeded: low)
            let octets = [v4 >> 24, (v4 >> 16) & 0xFF, (v4 >> 8) & 0xFF, v4 & 0xFF].map(String.init)
            return "\(octets.joined(separator: "."))/\(prefixLength)"
        }
        return "\(Self.format(high: high, low: low))/\(length)"
    }

    /// Parses like ``init(_:)``, with a message that says what is wrong.
    init(configuration text: String) throws(InvalidValue) {
        let usage = "use address/prefix, as in 10.42.0.0/16 or fd00::/8"
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let (high, low) = Self.parseAddress(parts[0]) else {
            throw InvalidValue("invalid network \"\(text)\" (\(usage))")
        }
        let writtenAsIPv4 = !parts[0].contains(":")
        let familyBits = writtenAsIPv4 ? 32 : 128
        var written = familyBits
        if parts.count == 2 {
            let prefix = parts[1]
            guard !prefix.isEmpty, prefix.count <= 3, prefix.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let number = Int(prefix), number <= familyBits else {
                throw InvalidValue("invalid prefix length in \"\(text)\" (0-\(familyBits) for \(writtenAsIPv4 ? "IPv4" : "IPv6"))")
            }
            written = number
        }
        let length = writtenAsIPv4 ? written + 96 : written
        let (maskHigh, maskLow) = Self.mask(length)
        guard high & maskHigh == high, low & maskLow == low else {
            let network = CIDR(high: high & maskHigh, low: low & maskLow, length: length)
            throw InvalidValue("\"\(text)\" has bits set past its prefix (did you mean \(network)?)")
        }
        self.init(high: high, low: low, length: length)
    }

    private init(high: UInt64, low: UInt64, length: Int) {
        self.high = high
        self.low = low
        self.length = length
    }

    /// The two halves of a mask with the first `length` of 128 bits set.
    private static func mask(_ length: Int) -> (UInt64, UInt64) {
        let high: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : .max << (64 - length))
        let low: UInt64 = length <= 64 ? 0 : (length == 128 ? .max : .max << (128 - length))
        return (high, low)
    }

    private static func isMapped(high: UInt64, low: UInt64) -> Bool {
        high == 0 && low >> 32 == 0xFFFF
    }

    /// An IPv4 literal (as its mapped IPv6 form) or an IPv6 literal, as 128 bits; nil for anything else.
    private static func parseAddress(_ text: Substring) -> (UInt64, UInt64)? {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        let string = String(text)
        if !string.contains(":") {
            var address = in_addr()
            guard string.withCString({ inet_pton(AF_INET, $0, &address) }) == 1 else { return nil }
            let v4 = UInt32(bigEndian: address.s_addr)
            return (0, 0xFFFF_0000_0000 | UInt64(v4))
        }
        var address = in6_addr()
        guard string.withCString({ inet_pton(AF_INET6, $0, &address) }) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { bytes in
            var high: UInt64 = 0
            var low: UInt64 = 0
            for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
            return (high, low)
        }
    }

    /// RFC 5952 text for an IPv6 address.
    private static func format(high: UInt64, low: UInt64) -> String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { bytes in
            for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index)) }
            for index in 0..<8 { bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index)) }
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
