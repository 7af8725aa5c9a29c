/// A request's id, as the gateway passes it on (`X-Request-ID` both ways), logs it and puts it
/// in error replies: a generated one, kept as the 128 bits its 32 hex digits spell until they
/// are written (a String of them, an allocation and a UTF-8 check, cost about 400 instructions
/// per request), or the client's own, kept as it came.
struct RequestID: Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    private enum Value {
        case generated(high: UInt64, low: UInt64)
        case given(String)
    }

    private let value: Value

    init(high: UInt64, low: UInt64) {
        value = .generated(high: high, low: low)
    }

    /// A client's id (see ``RequestIDGenerator/isAcceptable(_:)``).
    init(_ given: String) {
        value = .given(given)
    }

    init(stringLiteral given: String) {
        self.init(given)
    }

    /// Bytes of the id written out.
    var utf8Count: Int {
        switch value {
        case .generated: return 32
        case .given(let given): return given.utf8.count
        }
    }

    var description: String {
        switch value {
        case .generated(let high, let low):
            return String(unsafeUninitializedCapacity: 32) { buffer in
                Self.writeDigits(high: high, low: low, to: UnsafeMutableRawPointer(buffer.baseAddress!))
                return 32
            }
        case .given(let given):
            return given
        }
    }

    /// Writes the id at `out`'s end.
    func write(into out: inout HeadBytes) {
        switch value {
        case .generated(let high, let low):
            Self.writeDigits(high: high, low: low, to: out.base + out.count)
            out.count += 32
        case .given(let given):
            out.put(string: given)
        }
    }

    /// The 32 lowercase hex digits of `high` then `low`, at `base`.
    private static func writeDigits(high: UInt64, low: UInt64, to base: UnsafeMutableRawPointer) {
        base.storeBytes(of: RequestIDGenerator.hexDigits(UInt32(truncatingIfNeeded: high >> 32)), toByteOffset: 0, as: UInt64.self)
        base.storeBytes(of: RequestIDGenerator.hexDigits(UInt32(truncatingIfNeeded: high)), toByteOffset: 8, as: UInt64.self)
        base.storeBytes(of: RequestIDGenerator.hexDigits(UInt32(truncatingIfNeeded: low >> 32)), toByteOffset: 16, as: UInt64.self)
        base.storeBytes(of: RequestIDGenerator.hexDigits(UInt32(truncatingIfNeeded: low)), toByteOffset: 24, as: UInt64.self)
    }
}

extension HeadBytes {
    /// The `x-request-id` line (`prefix` is the name with its `: `).
    mutating func put(_ prefix: StaticString, _ id: RequestID) {
        put(prefix)
        id.write(into: &self)
        putCRLF()
    }
}
