import DemoUpstreams
import NIOPosix

/// Runs `body` against a fresh upstream on an ephemeral loopback port, stopping it afterwards even on failure.
func withUpstream<T>(
    behaviour: Behaviour = Behaviour(),
    _ body: (DemoUpstream) async throws -> T
) async throws -> T {
    let upstream = try await DemoUpstream.start(behaviour: behaviour, group: MultiThreadedEventLoopGroup.singleton)
    do {
        let result = try await body(upstream)
        try await upstream.stop()
        return result
    } catch {
        try? await upstream.stop()
        throw error
    }
}

/// A minimal request head with `Host`, for raw sends.
func request(_ method: String, _ target: String, headers: [(String, String)] = [], version: String = "HTTP/1.1") -> String {
    var text = "\(method) \(target) \(version)\r\nHost: test\r\n"
    for (name, value) in headers {
        text += "\(name): \(value)\r\n"
    }
    return text + "\r\n"
}
