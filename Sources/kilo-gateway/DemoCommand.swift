import ArgumentParser
import DemoUpstreams
import GatewayConfiguration
import KiloGateway
import Logging
import NIOPosix
import ServiceLifecycle

/// The one-command try-out: sample upstreams in-process and the gateway in front of them.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start sample upstreams and the gateway on 127.0.0.1:8080, and print curl commands to try."
    )

    @Option(name: .long, help: "Port for the gateway.")
    var port: Int = 8080

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "kilo-gateway.demo")
        let group = MultiThreadedEventLoopGroup.singleton
        let echo = try await DemoUpstream.start(group: group)
        let stream = try await DemoUpstream.start(group: group)
        let config = DemoConfiguration.make(gatewayPort: port, echoPort: echo.port, streamPort: stream.port)
        let server = GatewayServer(config: config, logger: logger)
        let base = "http://127.0.0.1:\(port)"
        print(
            """
            kilo-gateway demo: two sample upstreams on 127.0.0.1:\(echo.port) and 127.0.0.1:\(stream.port),
            the gateway on \(base). Try:

              curl -s \(base)/health
              curl -s '\(base)/api/echo/hello?name=kilo&name=again' -H 'X-Demo: 1'       # whoami echo
              curl -s -X POST --data-binary 'some body' \(base)/echo/upload            # prefix-less form, body digest
              curl -s \(base)/api/whoami/anything                                      # alias of echo
              curl -N '\(base)/api/stream/sse?events=10&interval=300ms'                # SSE tokens, streamed
              curl -s '\(base)/api/stream/slow?delay=4s'                               # logged as slow (threshold 3s)
              curl -s -o /dev/null -w '%{size_download} bytes\\n' '\(base)/api/stream/bytes?size=104857600'
              curl -si \(base)/api/nope/x                                              # 404 unknown service
              curl -si \(base)/api/offline/x                                           # 502 connect failure
              curl -s \(base)/admin/status                                            # a boolean per service, details
              curl -s \(base)/metrics | grep kilo_gateway_requests_total              # Prometheus metrics

            Ctrl-C drains and stops.
            """)
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
        try await services.run()
        try? await echo.stop()
        try? await stream.stop()
    }
}

/// The embedded configuration `demo` runs on.
enum DemoConfiguration {
    static func make(gatewayPort: Int, echoPort: Int, streamPort: Int) -> GatewayConfig {
        var defaults = ServiceSettings()
        defaults.slowThreshold = .seconds(3)
        defaults.retries.backoff = .milliseconds(100)
        func service(_ name: String, port: Int) -> ServiceConfig {
            ServiceConfig(name: name, url: UpstreamURL(host: "127.0.0.1", port: port), settings: defaults)
        }
        // Port 9 (discard) is closed on loopback: the `offline` service shows a 502.
        return GatewayConfig(
            listen: ListenAddress(host: "127.0.0.1", port: gatewayPort),
            drainTimeout: .seconds(5),
            defaults: defaults,
            services: [
                "echo": service("echo", port: echoPort),
                "stream": service("stream", port: streamPort),
                "offline": service("offline", port: 9),
            ],
            aliases: ["whoami": "echo"]
        )
    }
}
