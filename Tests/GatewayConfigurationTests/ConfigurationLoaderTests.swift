import Testing
@testable import GatewayConfiguration

@Suite struct ConfigurationLoaderTests {
    static let example = """
        listen: 127.0.0.1:8080
        workers: 2
        drainTimeout: 30s
        accessLog: true
        defaults:
          timeouts: { connect: 10s, response: 120s, idle: 120s }
          pool: { maxConnections: 50, idleTimeout: 4s, maxQueue: 256, queueTimeout: 10s }
          retries: { attempts: 3, backoff: 500ms, replayBuffer: 64KiB }
          slowThreshold: 10s
          followRedirects: false
          maxRedirects: 5
        services:
          financial: { url: "${FINANCIAL_URL:-http://kilo-financial:9005}" }
          ai_brain:  { url: "${AI_BRAIN_URL:-http://kilo-ai-brain:9004}", timeouts: { response: 300s }, slowThreshold: 3s }
        aliases: { finance: financial, chat: ai_brain }
        """

    @Test func exampleParsesToTheExpectedModel() throws {
        let config = try ConfigurationLoader.parse(yaml: Self.example, environment: [:])
        var aiBrain = ServiceSettings()
        aiBrain.timeouts.response = .seconds(300)
        aiBrain.slowThreshold = .seconds(3)
        let expected = GatewayConfig(
            listen: ListenAddress(host: "127.0.0.1", port: 8080),
            workers: 2,
            drainTimeout: .seconds(30),
            accessLog: true,
            defaults: ServiceSettings(),
            services: [
                "financial": ServiceConfig(name: "financial", url: UpstreamURL(host: "kilo-financial", port: 9005)),
                "ai_brain": ServiceConfig(name: "ai_brain", url: UpstreamURL(host: "kilo-ai-brain", port: 9004), settings: aiBrain),
            ],
            aliases: ["finance": "financial", "chat": "ai_brain"]
        )
        #expect(config == expected)
    }

    @Test func environmentOverridesTheDefaultURL() throws {
        let config = try ConfigurationLoader.parse(yaml: Self.example, environment: ["FINANCIAL_URL": "http://10.0.0.5:8000/v1/"])
        #expect(config.services["financial"]?.url == UpstreamURL(host: "10.0.0.5", port: 8000, basePath: "/v1"))
    }

    @Test func servicesMergeOverDefaultsFieldByField() throws {
        let config = try ConfigurationLoader.parse(yaml: """
            services:
              slow:
                url: http://slow
                timeouts: { response: 5m }
                pool: { maxQueue: 0 }
                retries: { replayBuffer: 1MiB }
              plain: { url: http://plain }
            defaults:
              timeouts: { connect: 2s }
              pool: { idleTimeout: 1500ms }
              retries: { attempts: 1 }
              followRedirects: true
            """, environment: [:])
        let slow = try #require(config.services["slow"]).settings
        #expect(slow.timeouts == .init(connect: .seconds(2), response: .seconds(300), idle: .seconds(120)))
        #expect(slow.pool == .init(maxConnections: 50, idleTimeout: .milliseconds(1500), maxQueue: 0, queueTimeout: .seconds(10)))
        #expect(slow.retries == .init(attempts: 1, backoff: .milliseconds(500), replayBuffer: 1 << 20))
        #expect(slow.followRedirects)
        let plain = try #require(config.services["plain"]).settings
        #expect(plain == config.defaults)
        #expect(plain.timeouts.connect == .seconds(2))
    }

    @Test func omittedKeysKeepTheModelDefaults() throws {
        let config = try ConfigurationLoader.parse(yaml: "services: { a: { url: 'http://[::1]:9000/' } }", environment: [:])
        #expect(config.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(config.workers == nil)
        #expect(config.defaults == ServiceSettings())
        #expect(config.services["a"]?.url == UpstreamURL(host: "::1", port: 9000))
        #expect(config.aliases.isEmpty)
    }

    @Test(arguments: [
        ("8080", ListenAddress(host: "0.0.0.0", port: 8080)),
        (":8080", ListenAddress(host: "0.0.0.0", port: 8080)),
        ("'[::1]:8080'", ListenAddress(host: "::1", port: 8080)),
        ("localhost:0", ListenAddress(host: "localhost", port: 0)),
        ("0.0.0.0:8000", ListenAddress(host: "0.0.0.0", port: 8000)),
    ])
    func listenForms(text: String, expected: ListenAddress) throws {
        let config = try ConfigurationLoader.parse(yaml: "listen: \(text)\nservices: {}", environment: [:])
        #expect(config.listen == expected)
    }

    @Test func listenMayComeFromTheEnvironment() throws {
        let config = try ConfigurationLoader.parse(yaml: "listen: ${LISTEN:-:8000}\nworkers: ${WORKERS}\nservices: {}", environment: ["WORKERS": "4"])
        #expect(config.listen == ListenAddress(host: "0.0.0.0", port: 8000))
        #expect(config.workers == 4)
    }

    @Test func loadReportsAMissingFile() {
        #expect {
            _ = try ConfigurationLoader.load(path: "/nonexistent/gateway.yaml", environment: [:])
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.problems.first?.message.contains("no such file") == true
                && error?.description.hasPrefix("/nonexistent/gateway.yaml: ") == true
        }
    }
}
