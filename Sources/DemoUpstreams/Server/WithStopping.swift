/// Runs `body` with `resource`, then `stop`s it, also when `body` throws (a failing stop is then
/// ignored: the body's error is the one to report). For servers and event loop groups in tests
/// and demos, which must not outlive the work they were started for.
public func withStopping<Resource, Result>(
    _ resource: Resource, stop: (Resource) async throws -> Void, _ body: (Resource) async throws -> Result
) async throws -> Result {
    let result: Result
    do {
        result = try await body(resource)
    } catch {
        try? await stop(resource)
        throw error
    }
    try await stop(resource)
    return result
}
