/// Waits until `condition` holds, checking every 10 ms, for at most `timeout`; returns whether it held.
/// Tests wait on the state they need instead of sleeping a guessed time.
///
/// Keep the call out of `#expect`/`#require`: write `let held = await eventually { … }` and
/// then `#expect(held)`. With Swift 6.3.1, inside a closure (a `withGateway` body), a closure
/// written in a macro's argument is confused with a later closure of the same type outside
/// the macro: a later `eventually` ran the earlier condition and returned its answer.
@discardableResult
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
