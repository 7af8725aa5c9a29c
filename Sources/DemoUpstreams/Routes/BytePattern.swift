import NIOCore

/// The deterministic body of `/bytes` and `/reset`: byte `i` is `UInt8(i % 251)`.
///
/// 251 is prime, so the pattern never lines up with power-of-two buffer sizes and a misplaced or repeated chunk
/// shows up in a digest.
enum BytePattern {
    /// Largest slice handed out, and the size of the pieces `/bytes` writes.
    static let pieceSize = 64 * 1024
    private static let period = 251

    /// One piece plus a period, so any offset's slice is a view into shared storage rather than a copy.
    private static let storage: ByteBuffer = {
        var buffer = ByteBufferAllocator().buffer(capacity: pieceSize + period)
        for index in 0..<(pieceSize + period) {
            buffer.writeInteger(UInt8(index % period))
        }
        return buffer
    }()

    /// Bytes `offset ..< offset + count` of the pattern; `count` is at most ``pieceSize``.
    static func slice(offset: Int, count: Int) -> ByteBuffer {
        precondition(count <= self.pieceSize, "pattern slices are at most one piece")
        return self.storage.getSlice(at: offset % self.period, length: count)!
    }

    /// The byte at `index`, for checking bodies.
    static func byte(at index: Int) -> UInt8 {
        UInt8(index % self.period)
    }
}
