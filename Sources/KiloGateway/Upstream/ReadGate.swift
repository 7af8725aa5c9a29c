/// Holds back a channel's reads while the other side of a relay cannot take more (backpressure),
/// remembering a read that arrived meanwhile so it can be issued on resume.
struct ReadGate {
    private(set) var isPaused = false
    private var pendingRead = false

    /// Called from `read(context:)`: whether to pass the read on now.
    mutating func allowRead() -> Bool {
        if isPaused {
            pendingRead = true
            return false
        }
        return true
    }

    /// Pauses or resumes; returns true when a held-back read must be issued now.
    mutating func setPaused(_ paused: Bool) -> Bool {
        guard paused != isPaused else { return false }
        isPaused = paused
        if !paused && pendingRead {
            pendingRead = false
            return true
        }
        return false
    }
}
