/// Produces one response on a connection's event loop, possibly over time (timers, backpressure).
protocol ResponseProducer: AnyObject {
    /// Begins answering; the producer must eventually call one of the exchange's finishing methods.
    func start(_ exchange: Exchange)
    /// The channel's writability changed; producers that stream large bodies resume here.
    func writabilityChanged(_ exchange: Exchange)
    /// The connection went away; stop timers and write nothing more.
    func cancel()
}

extension ResponseProducer {
    func writabilityChanged(_ exchange: Exchange) {}
    func cancel() {}
}
