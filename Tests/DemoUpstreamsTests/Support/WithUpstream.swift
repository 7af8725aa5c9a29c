import DemoUpstreams
import NIOPosix

/// Runs `body` against a fresh upstream on an ephemeral loopback port, stopping it afterwards even on failure.
func withUpstream<T>(
    behaviour: Behaviour = Behaviour(),
    _ body: (DemoUpstream) async throws -> T
) async throws -> T {
    let upstream = try await DemoUpstream.start(behaviour: behaviour, group: MultiThreadedEventLoopGroup.singleton)
    return try await withStopping(upstream, stop: { try await $0.stop() }, body)
}

/// A minimal request head with `Host`, for raw sends.
func request(_ method: String, _ target: String, headers: [(String, String)] = [], version: String = "HTTP/1.1") -> String {
    var text = "\(method) \(target) \(version)\r\nHost: test\r\n"
    for (name, value) in headers {
        text += "\(name): \(value)\r\n"
    }
    return text + "\r\n"
}
