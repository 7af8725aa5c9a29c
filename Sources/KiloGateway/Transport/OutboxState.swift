/// What an encoder's ``SocketOutbox`` does with a write and at a flush: the decisions, without
/// the bytes or the socket.
///
/// Small writes without a promise are gathered and leave together at the flush. On a plain TCP
/// socket they leave with one `send(2)` of the gateway's own, as long as NIO holds none of the
/// connection's bytes (else they would overtake them); otherwise, and for the rest of a send that
/// the socket did not take whole, as one NIO write. Large writes and writes with a promise go
/// through NIO, after what was gathered. Each write handed to NIO while sending is possible is
/// counted until its promise completes; NIO writes in order, so at zero it holds nothing of ours.
struct OutboxState {
    /// The socket is plain TCP and the outbox is the first handler before it.
    let canSend: Bool
    /// Writes handed to NIO whose promises have not completed yet.
    private(set) var withNIO = 0

    /// Writes larger than this go through NIO as they are, without a copy.
    static let largestGathered = 16 * 1024

    init(canSend: Bool) {
        self.canSend = canSend
    }

    enum WriteRoute: Equatable {
        /// Append it to the gathered bytes.
        case gather
        /// Hand the gathered bytes, then it, to NIO; `track`: count it until its promise completes.
        case nio(track: Bool)
    }

    /// - Parameters:
    ///   - bytes: its size, or `nil` for something that is not a buffer (a file region).
    ///   - hasPromise: the writer waits to hear when it is written.
    mutating func route(bytes: Int?, hasPromise: Bool) -> WriteRoute {
        if let bytes, bytes <= Self.largestGathered, !hasPromise { return .gather }
        guard canSend else { return .nio(track: false) }
        withNIO += 1
        return .nio(track: true)
    }

    enum FlushAction: Equatable {
        /// Send the gathered bytes with `send(2)`; what the socket does not take goes to NIO
        /// (see ``sendFellShort()``).
        case send
        /// Hand the gathered bytes (if any) to NIO and flush it; `track`: count that write.
        case nio(track: Bool)
        /// Nothing gathered and NIO holds nothing to flush.
        case nothing
    }

    mutating func flush(gathered: Int) -> FlushAction {
        guard canSend else { return .nio(track: false) }
        if withNIO == 0 { return gathered > 0 ? .send : .nothing }
        guard gathered > 0 else { return .nio(track: false) }
        withNIO += 1  // behind bytes NIO still holds: they go the same way, counted too
        return .nio(track: true)
    }

    /// Whether NIO may still hold bytes of this connection, so that a close now could drop them
    /// (a full close fails the writes NIO still holds). Behind TLS nothing is counted, and the
    /// TLS handler may hold bytes too: always.
    var nioMayHoldBytes: Bool { !canSend || withNIO > 0 }

    /// The socket did not take all the gathered bytes (it is full, or failed): the rest goes to
    /// NIO, counted, which waits for the socket or reports the failure.
    mutating func sendFellShort() {
        withNIO += 1
    }

    /// A counted write handed to NIO was written or failed.
    mutating func nioWriteCompleted() {
        withNIO -= 1
    }
}
