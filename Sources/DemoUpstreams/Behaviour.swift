/// How a ``DemoUpstream`` misbehaves; every knob is off by default, so the default is a well-behaved server.
public struct Behaviour: Sendable, Equatable {
    /// Close an idle keep-alive connection after a random idle time in this range, like a uvicorn with a tiny
    /// keep-alive; this is what provokes the gateway's stale-connection race.
    public var idleClose: ClosedRange<Duration>?
    /// Send `Connection: close` and close after every response.
    public var closeAfterResponse: Bool
    /// Delay before sending response headers, on every route.
    public var headerDelay: Duration?
    /// Accept and read requests but never answer (a hung upstream).
    public var hang: Bool
    /// On a connection that already served a request, close without answering once this many body bytes of
    /// the next request have arrived (0: as soon as its head arrives). Makes the stale keep-alive race certain.
    public var dropReusedAfterBodyBytes: Int?

    /// Creates a behaviour; with no arguments the upstream behaves well.
    public init(
        idleClose: ClosedRange<Duration>? = nil,
        closeAfterResponse: Bool = false,
        headerDelay: Duration? = nil,
        hang: Bool = false,
        dropReusedAfterBodyBytes: Int? = nil
    ) {
        self.dropReusedAfterBodyBytes = dropReusedAfterBodyBytes
        self.idleClose = idleClose
        self.closeAfterResponse = closeAfterResponse
        self.headerDelay = headerDelay
        self.hang = hang
    }
}
