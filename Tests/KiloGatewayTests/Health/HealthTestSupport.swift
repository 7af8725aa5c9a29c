import DemoUpstreams
import GatewayConfiguration
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

@testable import KiloGateway

/// Helpers shared by the health-check tests.
enum HealthTestSupport {
    /// Runs `body` with an event loop group of its own, shut down afterwards.
    static func withGroup<T>(_ body: (MultiThreadedEventLoopGroup) async throws -> T) async throws -> T {
        try await withStopping(MultiThreadedEventLoopGroup(numberOfThreads: 1), stop: { try await $0.shutdownGracefully() }, body)
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

/// A server that accepts connections and never answers, and (unlike a hung ``DemoUpstream``, which
/// keeps a half-closed connection open) closes its side when the client closes, so tests can see
/// whether a client closed its connection.
final class SilentServer: Sendable {
    private let listener: any Channel
    private let counts: NIOLockedValueBox<(accepted: Int, open: Int)>

    var url: UpstreamURL { UpstreamURL(host: "127.0.0.1", port: listener.localAddress?.port ?? 0) }
    var accepted: Int { counts.withLockedValue { $0.accepted } }
    var open: Int { counts.withLockedValue { $0.open } }

    private init(listener: any Channel, counts: NIOLockedValueBox<(accepted: Int, open: Int)>) {
        self.listener = listener
        self.counts = counts
    }

    static func start(group: any EventLoopGroup) async throws -> SilentServer {
        let counts = NIOLockedValueBox((accepted: 0, open: 0))
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                counts.withLockedValue {
                    $0.accepted += 1
                    $0.open += 1
                }
                channel.closeFuture.whenComplete { _ in counts.withLockedValue { $0.open -= 1 } }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return SilentServer(listener: listener, counts: counts)
    }

    func stop() async throws {
        try await listener.close()
    }
}
