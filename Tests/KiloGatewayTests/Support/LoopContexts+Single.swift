import GatewayConfiguration
import NIOCore

@testable import KiloGateway

extension LoopContexts {
    /// The context of one loop for `config`, made on that loop as the server makes it: for tests
    /// that run a listener's bootstrap without a whole server. Logs go to a ``LogCapture``.
    static func single(on loop: any EventLoop, config: GatewayConfig) async throws -> LoopContexts {
        let logger = LogCapture().logger
        return try await loop.submit {
            let context = LoopContext(
                eventLoop: loop, routes: RouteTable(config: config), states: UpstreamStates(config: config),
                metrics: GatewayMetrics(), edge: EdgeSettings(config: config, loopCount: 1), loopCount: 1, logger: logger,
                accessLog: nil)
            return LoopContexts(byLoop: [ObjectIdentifier(loop): context])
        }.get()
    }
}
