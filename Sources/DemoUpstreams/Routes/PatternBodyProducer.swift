import NIOCore
import NIOHTTP1

/// `/bytes` and `/reset`: streams the byte pattern only while the channel is writable, so a slow reader slows
/// the server down and a 1 GiB body costs a bounded number of buffers.
final class PatternBodyProducer: ResponseProducer {
    /// What happens after the last byte.
    enum Ending {
        /// End the response normally.
        case complete
        /// Abort the connection with a TCP RST, leaving the declared body incomplete.
        case reset
    }

    private let sendLength: Int
    private let declaredLength: Int?
    private let ending: Ending
    private var sent = 0
    private var doneWriting = false
    private var isPumping = false
    /// Completed once the last byte reached the kernel; the reset waits for it.
    private var lastWrite: EventLoopPromise<Void>?
    private var resetTimer: Scheduled<Void>?

    /// - Parameters:
    ///   - sendLength: Bytes actually sent.
    ///   - declaredLength: The `Content-Length` announced; nil sends the body chunked.
    ///   - ending: Whether to finish the response or reset after `sendLength` bytes.
    init(sendLength: Int, declaredLength: Int?, ending: Ending) {
        self.sendLength = sendLength
        self.declaredLength = declaredLength
        self.ending = ending
    }

    func start(_ exchange: Exchange) {
        var headers: HTTPHeaders = ["content-type": "application/octet-stream"]
        if let declaredLength = self.declaredLength {
            headers.add(name: "content-length", value: String(declaredLength))
        }
        if self.ending == .reset {
            let lastWrite = exchange.makePromise()
            self.lastWrite = lastWrite
            lastWrite.futureResult.assumeIsolated().whenSuccess { [weak self] in
                self?.scheduleReset(exchange)
            }
        }
        let headWritten = self.sendLength == 0 ? self.takeLastWrite() : nil
        exchange.writeHead(.ok, headers: headers, promise: headWritten)
        if !exchange.sendsBody {
            self.sent = self.sendLength
        }
        self.pump(exchange)
    }

    func writabilityChanged(_ exchange: Exchange) {
        self.pump(exchange)
    }

    func cancel() {
        self.doneWriting = true
        self.resetTimer?.cancel()
        self.resetTimer = nil
        self.takeLastWrite()?.fail(ChannelError.ioOnClosedChannel)
    }

    private func pump(_ exchange: Exchange) {
        // Writes and flushes can fire `channelWritabilityChanged` synchronously; the outer loop below re-checks
        // writability itself, so a nested call must not write out of order.
        guard exchange.isActive, !self.doneWriting, !self.isPumping else { return }
        self.isPumping = true
        defer { self.isPumping = false }
        while true {
            while self.sent < self.sendLength && exchange.isWritable {
                let offset = self.sent
                let count = min(BytePattern.pieceSize, self.sendLength - offset)
                self.sent += count
                exchange.writeBody(
                    BytePattern.slice(offset: offset, count: count),
                    promise: self.sent == self.sendLength ? self.takeLastWrite() : nil
                )
            }
            exchange.flush()
            if self.sent == self.sendLength || !exchange.isWritable || !exchange.isActive { break }
        }
        guard self.sent == self.sendLength else { return }
        self.doneWriting = true
        switch self.ending {
        case .complete:
            exchange.end()
        case .reset:
            // A HEAD response wrote no body, so nothing else will complete the promise.
            self.takeLastWrite()?.succeed()
        }
    }

    /// Hands the promise to exactly one owner, since completing a promise twice traps.
    private func takeLastWrite() -> EventLoopPromise<Void>? {
        defer { self.lastWrite = nil }
        return self.lastWrite
    }

    private func scheduleReset(_ exchange: Exchange) {
        self.resetTimer = exchange.eventLoop.scheduleTask(in: UpstreamHandler.resetGrace) { [weak self] in
            self?.resetTimer = nil
            exchange.reset()
        }
    }
}
