import NIOCore

/// A response written in one go, optionally after a delay (`/slow`).
final class FixedResponse: ResponseProducer {
    private let delay: Duration?
    private let write: (Exchange) -> Void
    private var timer: Scheduled<Void>?

    init(after delay: Duration? = nil, _ write: @escaping (Exchange) -> Void) {
        self.delay = delay
        self.write = write
    }

    func start(_ exchange: Exchange) {
        guard let delay = self.delay, delay > .zero else {
            self.write(exchange)
            return
        }
        self.timer = exchange.eventLoop.scheduleTask(in: .nanoseconds(delay.wholeNanoseconds)) { [weak self] in
            guard let self, exchange.isActive else { return }
            self.timer = nil
            self.write(exchange)
        }
    }

    func cancel() {
        self.timer?.cancel()
        self.timer = nil
    }
}
