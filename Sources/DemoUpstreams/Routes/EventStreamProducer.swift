import NIOCore
import NIOHTTP1

/// `/sse`: `data: token N` events, each written and flushed on its own so a proxy that buffers is caught.
final class EventStreamProducer: ResponseProducer {
    private let events: Int
    private let interval: Duration
    private var sent = 0
    private var timer: Scheduled<Void>?

    init(events: Int, interval: Duration) {
        self.events = events
        self.interval = interval
    }

    func start(_ exchange: Exchange) {
        exchange.writeHead(
            .ok,
            headers: ["content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no"]
        )
        exchange.flush()
        self.sendNext(exchange)
    }

    func cancel() {
        self.timer?.cancel()
        self.timer = nil
    }

    private func sendNext(_ exchange: Exchange) {
        guard exchange.isActive else { return }
        guard self.sent < self.events else {
            exchange.end()
            return
        }
        self.sent += 1
        exchange.writeBody(exchange.allocator.buffer(string: "data: token \(self.sent)\n\n"))
        exchange.flush()
        guard self.sent < self.events else {
            exchange.end()
            return
        }
        self.timer = exchange.eventLoop.scheduleTask(in: .nanoseconds(self.interval.wholeNanoseconds)) {
            [weak self] in
            self?.timer = nil
            self?.sendNext(exchange)
        }
    }
}
