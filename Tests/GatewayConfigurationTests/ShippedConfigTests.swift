import Foundation
import Testing
@testable import GatewayConfiguration

/// `config/gateway.yaml` is the first thing a newcomer reads and what the image ships; it must always load.
@Suite struct ShippedConfigTests {
    static let path = RepositoryPaths.repositoryRoot + "/config/gateway.yaml"
    static let deployPath = RepositoryPaths.repositoryRoot + "/deploy/k8s/base/gateway.yaml"

    @Test func loadsWithAnEmptyEnvironment() throws {
        let config = try ConfigurationLoader.load(path: Self.path, environment: [:])
        #expect(config.listen == ListenAddress(host: "0.0.0.0", port: 8000))
        let expected: [String: UpstreamURL] = [
            "meds": UpstreamURL(host: "kilo-meds", port: 9000),
            "reminder": UpstreamURL(host: "kilo-reminder", port: 9002),
            "habits": UpstreamURL(host: "kilo-habits", port: 9000),
            "ai_brain": UpstreamURL(host: "kilo-ai-brain", port: 9004),
            "financial": UpstreamURL(host: "kilo-financial", port: 9005),
            "library_of_truth": UpstreamURL(host: "kilo-library", port: 9006),
            "cam": UpstreamURL(host: "kilo-cam", port: 9007),
            "ml": UpstreamURL(host: "kilo-ml-engine", port: 9009),
            "voice": UpstreamURL(host: "kilo-voice", port: 9008),
            "usb": UpstreamURL(host: "kilo-usb-transfer", port: 8006),
            "security_monitor": UpstreamURL(host: "kilo-security-monitor", port: 9010),
            "drone_control": UpstreamURL(host: "kilo-drone-control", port: 9011),
            "briefing": UpstreamURL(host: "kilo-briefing", port: 9012),
        ]
        #expect(config.services.mapValues(\.url) == expected)
        #expect(config.aliases == ["reminders": "reminder", "chat": "ai_brain", "library": "library_of_truth", "finance": "financial"])
        let aiBrain = try #require(config.services["ai_brain"]).settings
        #expect(aiBrain.timeouts.response == .seconds(300))
        #expect(aiBrain.timeouts.connect == .seconds(10))
        #expect(aiBrain.slowThreshold == .seconds(3))
        #expect(config.services["meds"]?.settings == config.defaults)
        #expect(config.defaults.pool.idleTimeout == .seconds(4))
    }

    /// The `defaults:` block documents every per-service key at its built-in value, so it must equal the model's defaults.
    @Test func documentedDefaultsAreTheBuiltInOnes() throws {
        let config = try ConfigurationLoader.load(path: Self.path, environment: [:])
        #expect(config.defaults == ServiceSettings())
        #expect(config.defaults.healthCheck == nil)
        let endpointCounts = Set(config.services.values.map(\.endpoints.count))
        #expect(endpointCounts == [1])
    }

    /// The cluster's copy (the ConfigMap and the image's default) loads too, with the same services and defaults.
    @Test func deployCopyLoadsAndMatches() throws {
        let config = try ConfigurationLoader.load(path: Self.path, environment: [:])
        let deployed = try ConfigurationLoader.load(path: Self.deployPath, environment: [:])
        #expect(deployed.services == config.services)
        #expect(deployed.aliases == config.aliases)
        #expect(deployed.defaults == config.defaults)
    }

    /// The edge keys are documented at their built-in values too; the cluster copy differs only in trusting the pod network.
    @Test func documentedEdgeSettingsAreTheBuiltInOnes() throws {
        let config = try ConfigurationLoader.load(path: Self.path, environment: [:])
        let builtIn = GatewayConfig()
        #expect(config.tls == nil)
        #expect(config.plainHTTP == builtIn.plainHTTP)
        #expect(config.limits == builtIn.limits)
        #expect(config.headers == builtIn.headers)
        #expect(config.trustedProxies == builtIn.trustedProxies)
        #expect(config.websocket == builtIn.websocket)
        #expect(config.socketIO == nil)
        let deployed = try ConfigurationLoader.load(path: Self.deployPath, environment: [:])
        #expect(deployed.tls == nil)
        #expect(deployed.plainHTTP == config.plainHTTP)
        #expect(deployed.limits == config.limits)
        #expect(deployed.headers == config.headers)
        #expect(deployed.websocket == config.websocket)
        #expect(deployed.socketIO == nil)
        #expect(deployed.trustedProxies.map(\.description) == ["10.42.0.0/16", "127.0.0.1/32"])
    }

    /// The commented-out tls blocks must work once uncommented (with the files in place).
    @Test func commentedTLSBlocksLoadWhenUncommented() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        for path in [Self.path, Self.deployPath] {
            var text = try String(contentsOfFile: path, encoding: .utf8)
            let block = text.split(separator: "\n", omittingEmptySubsequences: false)
                .drop { !$0.hasPrefix("# tls:") }
                .prefix { $0.hasPrefix("#") }
            #expect(block.count == 5, "\(path): tls block")
            let uncommented = block.map { $0.dropFirst(2) }
                .joined(separator: "\n")
                .replacingOccurrences(of: "/etc/kilo-gateway-tls/tls.crt", with: files.certificate)
                .replacingOccurrences(of: "/etc/kilo-gateway-tls/tls.key", with: files.key)
            text = text.replacingOccurrences(of: block.joined(separator: "\n"), with: uncommented)
            let config = try ConfigurationLoader.parse(yaml: text, environment: [:])
            #expect(config.tls == TLSListener(certificate: files.certificate, key: files.key), "\(path)")
        }
    }

    @Test func environmentOverridesAServiceURL() throws {
        let config = try ConfigurationLoader.load(path: Self.path, environment: ["FINANCIAL_URL": "http://127.0.0.1:19005"])
        #expect(config.services["financial"]?.url == UpstreamURL(host: "127.0.0.1", port: 19005))
        #expect(config.services["meds"]?.url == UpstreamURL(host: "kilo-meds", port: 9000))
    }
}

/// Locates files of the repository from this source file, whatever the working directory.
enum RepositoryPaths {
    static let repositoryRoot: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // Tests/GatewayConfigurationTests/ShippedConfigTests.swift
        return components.joined(separator: "/")
    }()
}
