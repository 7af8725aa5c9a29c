import DemoUpstreams
import GatewayConfiguration
import NIOCore
import NIOPosix

@testable import KiloGateway

/// Helpers shared by the health-check tests.
enum HealthTestSupport {
    /// Runs `body` with an event loop group of its own, shut down afterwards.
    static func withGroup<T>(_ body: (MultiThreadedEventLoopGroup) async throws -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let result = try await body(group)
            try await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    static func eventually(
        within timeout: Duration = .seconds(5),
        every step: Duration = .milliseconds(10),
        _ condition: () -> Bool
    ) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: step)
        }
        return condition()
    }

    static func url(_ upstream: DemoUpstream) -> UpstreamURL {
        UpstreamURL(host: upstream.host, port: upstream.port)
    }

    /// A port nothing listens on: an upstream started and stopped again.
    static func deadURL(group: any EventLoopGroup) async throws -> UpstreamURL {
        let upstream = try await DemoUpstream.start(group: group)
        try await upstream.stop()
        return url(upstream)
    }
}
