/// Waits until `condition` holds, checking every 10 ms, for at most `timeout`; returns whether it held.
/// Tests wait on the state they need instead of sleeping a guessed time.
@discardableResult
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
