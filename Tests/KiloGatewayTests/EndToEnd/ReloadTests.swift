import DemoUpstreams
import Foundation
import GatewayConfiguration
import KiloGateway
import Testing

extension EndToEndTests {
    /// The configuration file is watched; valid changes apply, invalid ones are refused.
    @Suite struct Reload {
        @Test func validChangesApplyAndInvalidOnesAreRefused() async throws {
            let upstream = try await DemoUpstream.start(group: TestGroups.upstream)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kilo-reload-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("gateway.yaml").path
            func yaml(aliases: String) -> String {
                """
                listen: 127.0.0.1:0
                accessLog: false
                services:
                  echo: { url: "http://127.0.0.1:${ECHO_PORT}" }
                aliases: { \(aliases) }
                """
            }
            let environment = ["ECHO_PORT": String(upstream.port)]
            try yaml(aliases: "").write(toFile: file, atomically: true, encoding: .utf8)
            let config = try ConfigurationLoader.load(path: file, environment: environment)
            let logs = LogCapture()
            let server = GatewayServer(config: config, logger: logs.logger, accessLog: nil, eventLoopGroup: TestGroups.gateway)
            try await server.start()
            let port = server.localAddress!.port!
            let watcher = ConfigWatcher(path: file, server: server, logger: logs.logger, interval: .milliseconds(30), environment: environment)
            let watching = Task { try await watcher.run() }
            defer {
                watching.cancel()
                Task { await server.shutdown(drainTimeout: .milliseconds(100)); try? await upstream.stop() }
            }

            #expect(try await TestClient.get("/api/whoami/x", port: port, group: TestGroups.client).status == 404)
            try yaml(aliases: "whoami: echo").write(toFile: file, atomically: true, encoding: .utf8)
            let applied = try await eventually { try await TestClient.get("/api/whoami/x", port: port, group: TestGroups.client).status == 200 }
            #expect(applied, "the new alias applies without a restart")

            try yaml(aliases: "whoami: missing").write(toFile: file, atomically: true, encoding: .utf8)
            let refusedLogged = await eventually { logs.logged.contains { $0.level == .error && $0.message.contains("refused") } }
            #expect(refusedLogged)
            #expect(try await TestClient.get("/api/whoami/x", port: port, group: TestGroups.client).status == 200)
            let metrics = try PrometheusTextParser.parse(try await TestClient.get("/metrics", port: port, group: TestGroups.client).text)
            #expect(metrics.value(of: "kilo_gateway_config_reloads_total", labels: ["result": "success"]) == 1)
            #expect(metrics.value(of: "kilo_gateway_config_reloads_total", labels: ["result": "failure"]) == 1)
        }
    }
}
