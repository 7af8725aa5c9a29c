import NIOCore

/// The time while one read is being handled, read from the clock at most once.
///
/// Handling a read (a request head and its end, or a response) asked the clock six times per
/// proxied request, about 45 ns a read in these VMs. While a decoder handles a read it opens a
/// scope; the first `now()` in it reads the clock and the rest get that time. Outside a scope
/// (timers, other events) every `now()` reads the clock. One per event loop; used only on it.
final class LoopClock {
    private var scopeOpen = false
    private var cached: NIODeadline?

    /// The current time: the open scope's, once read, or the clock's.
    @inline(__always)
    func now() -> NIODeadline {
        if let cached { return cached }
        let now = NIODeadline.now()
        if scopeOpen { cached = now }
        return now
    }

    /// Opens a scope; `false` when one is open already (the caller is nested in it and must
    /// not close it).
    func openScope() -> Bool {
        if scopeOpen { return false }
        scopeOpen = true
        return true
    }

    func closeScope() {
        scopeOpen = false
        cached = nil
    }
}
