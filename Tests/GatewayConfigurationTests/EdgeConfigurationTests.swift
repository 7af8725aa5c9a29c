import Foundation
import Testing
@testable import GatewayConfiguration

/// Throwaway PEM files for the load-time file checks (their contents only need the PEM markers).
struct PEMFiles {
    let directory: String
    var certificate: String { directory + "/tls.crt" }
    var key: String { directory + "/tls.key" }
    var ca: String { directory + "/ca.pem" }

    static let certificateText = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    static let keyText = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"

    init() throws {
        directory = FileManager.default.temporaryDirectory.path + "/kilo-gateway-pem-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.certificateText.write(toFile: certificate, atomically: true, encoding: .utf8)
        try Self.keyText.write(toFile: key, atomically: true, encoding: .utf8)
        try Self.certificateText.write(toFile: ca, atomically: true, encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite struct EdgeDefaultsTests {
    @Test func absentKeysGiveTheBuiltInEdge() throws {
        let config = try ConfigurationLoader.parse(yaml: withService("  a: { url: http://a }"), environment: [:])
        #expect(config.tls == nil)
        #expect(config.plainHTTP == .serve)
        #expect(config.limits == ClientLimits())
        #expect(config.limits.maxHeaderBytes == 65_536)
        #expect(config.limits.headerTimeout == .seconds(10))
        #expect(config.limits.keepAliveTimeout == .seconds(75))
        #expect(config.limits.maxConnections == 10_000)
        #expect(config.limits.http2MaxConcurrentStreams == 100)
        #expect(config.limits.http2MaxHeaderListSize == 65_536)
        #expect(config.headers.underscores == .allow)
        #expect(config.trustedProxies.isEmpty)
        #expect(config.websocket.idleTimeout == .seconds(600))
        #expect(config.socketIO == nil)
        let settings = try #require(config.services["a"]).settings
        #expect(settings.maxBodySize == 100 * 1024 * 1024)
        #expect(settings.upstreamTLS == UpstreamTLS(caFile: nil, verify: true, serverName: nil))
    }

    @Test func everyEdgeKeyIsRead() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        let config = try ConfigurationLoader.parse(yaml: """
            listen: 0.0.0.0:8000
            tls:
              listen: "[::]:8443"
              certificate: \(files.certificate)
              key: \(files.key)
              http2: false
            plainHTTP: redirect
            limits:
              maxHeaderBytes: 32KiB
              headerTimeout: 5s
              keepAliveTimeout: 60s
              maxConnections: 500
              http2MaxConcurrentStreams: 50
              http2MaxHeaderListSize: 16KiB
            headers:
              underscores: reject
            trustedProxies: ["10.42.0.0/16", "127.0.0.1/32", "fd00::/8"]
            websocket:
              idleTimeout: 2m
            socketIO:
              service: socketio
            defaults:
              maxBodySize: 10MiB
              upstreamTLS: { caFile: \(files.ca) }
            services:
              socketio: { url: http://kilo-socketio:9013 }
              voice:
                url: "https://kilo-voice:9008"
                maxBodySize: 0
                upstreamTLS: { verify: false, serverName: kilo-voice.internal }
            """, environment: [:])
        #expect(config.tls == TLSListener(
            listen: ListenAddress(host: "::", port: 8443), certificate: files.certificate, key: files.key, http2: false))
        #expect(config.plainHTTP == .redirect)
        #expect(config.limits == ClientLimits(
            maxHeaderBytes: 32 * 1024, headerTimeout: .seconds(5), keepAliveTimeout: .seconds(60), maxConnections: 500,
            http2MaxConcurrentStreams: 50, http2MaxHeaderListSize: 16 * 1024))
        #expect(config.headers == HeaderPolicy(underscores: .reject))
        #expect(config.trustedProxies.map(\.description) == ["10.42.0.0/16", "127.0.0.1/32", "fd00::/8"])
        #expect(config.websocket == WebSocketSettings(idleTimeout: .seconds(120)))
        #expect(config.socketIO == SocketIOSettings(service: "socketio"))
        #expect(config.defaults.maxBodySize == 10 * 1024 * 1024)
        #expect(config.services["socketio"]?.settings.maxBodySize == 10 * 1024 * 1024)
        #expect(config.services["socketio"]?.settings.upstreamTLS == UpstreamTLS(caFile: files.ca))
        let voice = try #require(config.services["voice"])
        #expect(voice.url == UpstreamURL(scheme: "https", host: "kilo-voice", port: 9008))
        #expect(voice.settings.maxBodySize == 0)
        // Merged field by field: caFile from defaults, verify and serverName from the service.
        #expect(voice.settings.upstreamTLS == UpstreamTLS(caFile: files.ca, verify: false, serverName: "kilo-voice.internal"))
    }

    @Test func tlsListenAndHTTP2Default() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        let config = try ConfigurationLoader.parse(yaml: """
            tls: { certificate: \(files.certificate), key: \(files.key) }
            plainHTTP: off
            services: {}
            """, environment: [:])
        #expect(config.tls == TLSListener(certificate: files.certificate, key: files.key))
        #expect(config.tls?.listen == ListenAddress(host: "0.0.0.0", port: 8443))
        #expect(config.tls?.http2 == true)
        #expect(config.plainHTTP == .off)
    }

    @Test func emptyTrustedProxiesAndEmptyBlocksAreAllowed() throws {
        let config = try ConfigurationLoader.parse(yaml: "trustedProxies: []\nlimits:\nheaders:\nwebsocket:\nservices: {}", environment: [:])
        #expect(config.trustedProxies.isEmpty)
        #expect(config.limits == ClientLimits())
    }
}

@Suite struct TLSValidationTests {
    @Test func certificateAndKeyAreRequired() {
        let found = problems(in: "listen: :8000\ntls:\n  http2: true\nservices: {}")
        #expect(found.map(\.key) == ["tls.certificate", "tls.key"])
        #expect(found.map(\.line) == [2, 2])
        #expect(found[0].message.hasPrefix("missing (path of the PEM certificate chain"))
        #expect(problems(in: "tls: { certificate: /nonexistent/x }\nservices: {}").map(\.key) == ["tls.certificate", "tls.key"])
        #expect(problems(in: "tls:\nservices: {}").map(\.key) == ["tls.certificate", "tls.key"])
    }

    @Test func missingFilesAreNamed() {
        let found = problems(in: """
            tls:
              certificate: /nonexistent/kilo/tls.crt
              key: /nonexistent/kilo/tls.key
            services: {}
            """)
        #expect(found == [
            ConfigurationProblem(key: "tls.certificate", line: 2, message: "file \"/nonexistent/kilo/tls.crt\" does not exist"),
            ConfigurationProblem(key: "tls.key", line: 3, message: "file \"/nonexistent/kilo/tls.key\" does not exist"),
        ])
    }

    @Test func directoriesAndSwappedFilesAreRefused() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        let found = problems(in: """
            tls:
              certificate: \(files.key)
              key: \(files.directory)
            services: {}
            """)
        #expect(found.map(\.key) == ["tls.certificate", "tls.key"])
        #expect(found[0].message == "file \"\(files.key)\" does not contain a PEM certificate")
        #expect(found[1].message == "\"\(files.directory)\" is a directory, expected a PEM private key file")
        let swapped = onlyProblem(in: "tls: { certificate: \(files.certificate), key: \(files.certificate) }\nservices: {}")
        #expect(swapped?.message == "file \"\(files.certificate)\" does not contain a PEM private key")
    }

    @Test func emptyAndUnusualKeysArePEMKeys() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        let ecKey = files.directory + "/ec.key"
        try "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n".write(toFile: ecKey, atomically: true, encoding: .utf8)
        #expect(problems(in: "tls: { certificate: \(files.certificate), key: \(ecKey) }\nservices: {}").isEmpty)
        let empty = files.directory + "/empty.crt"
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(onlyProblem(in: "tls: { certificate: \(empty), key: \(files.key) }\nservices: {}")?.message
            == "file \"\(empty)\" does not contain a PEM certificate")
    }

    @Test(.enabled(if: getuid() != 0, "root reads any file"))
    func unreadableFilesAreRefused() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: files.key)
        let problem = onlyProblem(in: "tls: { certificate: \(files.certificate), key: \(files.key) }\nservices: {}")
        #expect(problem?.key == "tls.key")
        #expect(problem?.message == "file \"\(files.key)\" is not readable (permission denied or I/O error)")
    }

    @Test func unknownTLSKey() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        let problem = onlyProblem(in: "tls: { certificate: \(files.certificate), key: \(files.key), http3: true }\nservices: {}")
        #expect(problem?.key == "tls.http3")
        #expect(problem?.message == "unknown key \"http3\" (did you mean \"http2\"?)")
    }

    @Test(arguments: ["redirect", "off"])
    func plainHTTPModesNeedTLS(mode: String) {
        let problem = onlyProblem(in: "listen: :8000\nplainHTTP: \(mode)\nservices: {}")
        #expect(problem == ConfigurationProblem(
            key: "plainHTTP", line: 2, message: "\(mode) needs a tls: listener (without tls only serve is valid)"))
    }

    @Test func plainHTTPServeWithoutTLSAndUnknownModes() {
        #expect(problems(in: "plainHTTP: serve\nservices: {}").isEmpty)
        let problem = onlyProblem(in: "plainHTTP: https\nservices: {}")
        #expect(problem == ConfigurationProblem(
            key: "plainHTTP", line: 1, message: "unknown plainHTTP mode \"https\" (expected one of: serve, redirect, off)"))
    }

    @Test func tlsListenMayNotShareThePlainPort() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        let explicit = onlyProblem(in: """
            listen: 0.0.0.0:8000
            tls:
              listen: :8000
              certificate: \(files.certificate)
              key: \(files.key)
            services: {}
            """)
        #expect(explicit == ConfigurationProblem(
            key: "tls.listen", line: 3, message: "0.0.0.0:8000 uses the same port as listen (0.0.0.0:8000)"))
        let implicit = onlyProblem(in: "listen: 127.0.0.1:8443\ntls: { certificate: \(files.certificate), key: \(files.key) }\nservices: {}")
        #expect(implicit?.key == "tls.listen")
        #expect(implicit?.line == 2)
        #expect(implicit?.message == "the default 0.0.0.0:8443 uses the same port as listen (127.0.0.1:8443); set tls.listen to another port")
        // Distinct interfaces, or ports the kernel picks, do not collide.
        let distinct = "listen: 127.0.0.1:8000\ntls: { listen: '10.0.0.5:8000', certificate: \(files.certificate), key: \(files.key) }\nservices: {}"
        #expect(problems(in: distinct).isEmpty)
        let ephemeral = "listen: 127.0.0.1:0\ntls: { listen: '127.0.0.1:0', certificate: \(files.certificate), key: \(files.key) }\nservices: {}"
        #expect(problems(in: ephemeral).isEmpty)
    }

    @Test func invalidTLSListenIsReportedOnce() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        let problem = onlyProblem(in: "tls: { listen: nowhere, certificate: \(files.certificate), key: \(files.key) }\nservices: {}")
        #expect(problem?.key == "tls.listen")
        #expect(problem?.message.contains("has no port") == true)
    }
}

@Suite struct ClientLimitsValidationTests {
    @Test func minimums() {
        let found = problems(in: """
            limits:
              maxHeaderBytes: 512
              headerTimeout: 0s
              keepAliveTimeout: 0ms
              maxConnections: 0
              http2MaxConcurrentStreams: 0
              http2MaxHeaderListSize: 1000
            services: {}
            """)
        #expect(found.map(\.key) == [
            "limits.maxHeaderBytes", "limits.headerTimeout", "limits.keepAliveTimeout", "limits.maxConnections",
            "limits.http2MaxConcurrentStreams", "limits.http2MaxHeaderListSize",
        ])
        #expect(found.map(\.line) == [2, 3, 4, 5, 6, 7])
        #expect(found[0].message == "must be at least 1KiB, got \"512\"")
        #expect(found[1].message == "must be greater than 0, got \"0s\"")
        #expect(found[3].message == "must be at least 1, got 0")
        #expect(found[5].message == "must be at least 1KiB, got \"1000\"")
    }

    @Test func exactMinimumsAreAccepted() throws {
        let config = try ConfigurationLoader.parse(yaml: """
            limits: { maxHeaderBytes: 1KiB, headerTimeout: 1ms, maxConnections: 1, http2MaxConcurrentStreams: 1, http2MaxHeaderListSize: 1024 }
            services: {}
            """, environment: [:])
        #expect(config.limits.maxHeaderBytes == 1024)
        #expect(config.limits.maxConnections == 1)
    }

    @Test func http2SettingsAre32Bit() {
        let found = problems(in: "limits: { http2MaxConcurrentStreams: 5000000000, http2MaxHeaderListSize: 8GiB }\nservices: {}")
        #expect(found.map(\.key) == ["limits.http2MaxConcurrentStreams", "limits.http2MaxHeaderListSize"])
        #expect(found[0].message == "must be between 1 and 4294967295, got 5000000000")
        #expect(found[1].message == "must be at most 4294967295, got \"8GiB\"")
    }

    @Test func unknownAndMisplacedKeys() {
        let found = problems(in: "limits:\n  maxHeaderByte: 8KiB\n  maxConcurrentRequests: 10\nservices: {}")
        #expect(found.map(\.key) == ["limits.maxHeaderByte", "limits.maxConcurrentRequests"])
        #expect(found[0].message == "unknown key \"maxHeaderByte\" (did you mean \"maxHeaderBytes\"?)")
        #expect(found[1].message == "maxConcurrentRequests is a per-service limit; set it under defaults.limits or a service's limits")
    }

    @Test func typeErrors() {
        let found = problems(in: "limits: 64KiB\nheaders: { underscores: [allow] }\nwebsocket: { idleTimeout: 10 }\nservices: {}")
        #expect(found.map(\.key) == ["limits", "headers.underscores", "websocket.idleTimeout"])
        #expect(found[0].message == "expected a mapping, got \"64KiB\"")
        #expect(found[1].message == "expected one of: allow, drop, reject, got a list")
        #expect(found[2].message.contains("a unit is required"))
    }
}

@Suite struct HeaderAndProxyValidationTests {
    @Test(arguments: [("allow", UnderscorePolicy.allow), ("drop", .drop), ("reject", .reject)])
    func underscorePolicies(text: String, expected: UnderscorePolicy) throws {
        let config = try ConfigurationLoader.parse(yaml: "headers: { underscores: \(text) }\nservices: {}", environment: [:])
        #expect(config.headers.underscores == expected)
    }

    @Test func unknownUnderscorePolicy() {
        let found = problems(in: "headers:\n  underscores: deny\n  casing: keep\nservices: {}")
        #expect(found == [
            ConfigurationProblem(key: "headers.underscores", line: 2, message: "unknown underscore policy \"deny\" (expected one of: allow, drop, reject)"),
            ConfigurationProblem(key: "headers.casing", line: 3, message: "unknown key \"casing\" (expected one of: underscores)"),
        ])
    }

    @Test func badNetworksAreReportedPerItem() {
        let found = problems(in: """
            trustedProxies:
              - 10.42.0.0/16
              - 10.42.1.0/16
              - kilo-proxy
              - fd00::/129
              -
            services: {}
            """)
        #expect(found.map(\.key) == ["trustedProxies[1]", "trustedProxies[2]", "trustedProxies[3]", "trustedProxies[4]"])
        #expect(found.map(\.line) == [3, 4, 5, 6])
        #expect(found[0].message == "\"10.42.1.0/16\" has bits set past its prefix (did you mean 10.42.0.0/16?)")
        #expect(found[1].message == "invalid network \"kilo-proxy\" (use address/prefix, as in 10.42.0.0/16 or fd00::/8)")
        #expect(found[2].message == "invalid prefix length in \"fd00::/129\" (0-128 for IPv6)")
        #expect(found[3].message == "expected a network (address/prefix), got nothing")
    }

    @Test func trustedProxiesMustBeAList() {
        let problem = onlyProblem(in: "trustedProxies: 10.42.0.0/16\nservices: {}")
        #expect(problem?.key == "trustedProxies")
        #expect(problem?.line == 1)
        #expect(problem?.message.hasPrefix("expected a list of networks, got \"10.42.0.0/16\"") == true)
    }

    @Test func trustedProxiesFromTheEnvironment() throws {
        let config = try ConfigurationLoader.parse(
            yaml: "trustedProxies: [\"${POD_CIDR:-10.42.0.0/16}\"]\nservices: {}", environment: ["POD_CIDR": "10.52.0.0/16"])
        #expect(config.trustedProxies == [try #require(CIDR("10.52.0.0/16"))])
    }

    @Test func websocketIdleTimeout() throws {
        let config = try ConfigurationLoader.parse(yaml: "websocket: { idleTimeout: 90s }\nservices: {}", environment: [:])
        #expect(config.websocket.idleTimeout == .seconds(90))
        let problem = onlyProblem(in: "websocket:\n  idleTimeout: 0s\nservices: {}")
        #expect(problem == ConfigurationProblem(key: "websocket.idleTimeout", line: 2, message: "must be greater than 0, got \"0s\""))
    }
}

@Suite struct SocketIOValidationTests {
    @Test func serviceMustBeConfigured() {
        let found = problems(in: withService("""
              a: { url: http://a }
            aliases: { chat: a }
            socketIO:
              service: relay
            """))
        #expect(found == [ConfigurationProblem(key: "socketIO.service", line: 6, message: "\"relay\" is not a service (services: a)")])
    }

    @Test func anAliasIsNotEnough() {
        let problem = onlyProblem(in: withService("  a: { url: http://a }\naliases: { chat: a }\nsocketIO: { service: chat }"))
        #expect(problem?.key == "socketIO.service")
        #expect(problem?.message == "\"chat\" is an alias; name the service \"a\"")
    }

    @Test func missingServiceAndUnknownKeys() {
        let found = problems(in: "socketIO:\n  path: /socket.io\nservices: { a: { url: http://a } }")
        #expect(found.map(\.key) == ["socketIO.service", "socketIO.path"])
        #expect(found.map(\.line) == [1, 2])
        #expect(found[0].message == "missing (the service /socket.io/... is forwarded to)")
    }

    @Test func anInvalidServiceIsNotReportedTwice() {
        let found = problems(in: withService("  relay: { url: ftp://relay }\nsocketIO: { service: relay }"))
        #expect(found.map(\.key) == ["services.relay.url"])
    }

    @Test func orderInTheFileDoesNotMatter() throws {
        let config = try ConfigurationLoader.parse(yaml: "socketIO: { service: relay }\nservices: { relay: { url: http://relay:9013 } }", environment: [:])
        #expect(config.socketIO?.service == "relay")
    }
}

@Suite struct ServiceEdgeSettingsTests {
    @Test func maxBodySize() throws {
        let config = try ConfigurationLoader.parse(yaml: withService("""
              a: { url: http://a }
              b: { url: http://b, maxBodySize: 1GiB }
            defaults:
              maxBodySize: 0
            """), environment: [:])
        #expect(config.services["a"]?.settings.maxBodySize == 0)
        #expect(config.services["b"]?.settings.maxBodySize == 1 << 30)
        let problem = onlyProblem(in: withService("  a: { url: http://a, maxBodySize: 100 MiB }"))
        #expect(problem == ConfigurationProblem(key: "services.a.maxBodySize", line: 3, message: "invalid size \"100 MiB\" (use 512, 64KiB, 1MiB, 1GiB)"))
    }

    @Test func upstreamTLSOnAPlainService() {
        let found = problems(in: withService("""
              a:
                url: http://a
                upstreamTLS: { verify: false }
              b:
                urls: [https://b1, http://b2]
                upstreamTLS: { serverName: b }
              c:
                url: https://c
                upstreamTLS: { verify: false }
            aliases: { cee: c, bee: b }
            """))
        #expect(found == [
            ConfigurationProblem(key: "services.a.upstreamTLS", line: 5,
                                 message: "upstreamTLS set but url is http:// (it applies only to https:// endpoints)"),
            ConfigurationProblem(key: "services.b.upstreamTLS", line: 8,
                                 message: "upstreamTLS set but urls[1] is http:// (it applies only to https:// endpoints)"),
        ])
    }

    @Test func upstreamTLSUnderDefaultsLeavesPlainServicesAlone() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        let config = try ConfigurationLoader.parse(yaml: withService("""
              a: { url: http://a }
              v: { url: https://v }
            defaults:
              upstreamTLS: { caFile: \(files.ca), serverName: kilo.home }
            """), environment: [:])
        #expect(config.services["a"]?.settings.upstreamTLS.caFile == files.ca)
        #expect(config.services["v"]?.settings.upstreamTLS == UpstreamTLS(caFile: files.ca, verify: true, serverName: "kilo.home"))
    }

    @Test func upstreamTLSValues() throws {
        let files = try PEMFiles()
        defer { files.remove() }
        let found = problems(in: withService("""
              v:
                url: https://v
                upstreamTLS:
                  caFile: /nonexistent/ca.pem
                  verify: sometimes
                  serverName: "kilo voice"
                  sni: v
              w:
                url: https://w
                upstreamTLS: { caFile: \(files.key) }
            """))
        #expect(found.map(\.key) == [
            "services.v.upstreamTLS.caFile", "services.v.upstreamTLS.verify", "services.v.upstreamTLS.serverName",
            "services.v.upstreamTLS.sni", "services.w.upstreamTLS.caFile",
        ])
        #expect(found.map(\.line) == [6, 7, 8, 9, 12])
        #expect(found[0].message == "file \"/nonexistent/ca.pem\" does not exist")
        #expect(found[1].message == "expected true or false, got \"sometimes\"")
        #expect(found[2].message.hasPrefix("invalid server name \"kilo voice\""))
        #expect(found[3].message == "unknown key \"sni\" (expected one of: caFile, verify, serverName)")
        #expect(found[4].message == "file \"\(files.key)\" does not contain a PEM certificate")
    }

    @Test func httpsEndpointsMixAndDeduplicateByScheme() throws {
        let config = try ConfigurationLoader.parse(yaml: withService("  a: { urls: ['https://a', 'http://a:443', 'HTTPS://a:8443/x'] }"), environment: [:])
        #expect(config.services["a"]?.endpoints == [
            UpstreamURL(scheme: "https", host: "a", port: 443),
            UpstreamURL(scheme: "http", host: "a", port: 443),
            UpstreamURL(scheme: "https", host: "a", port: 8443, basePath: "/x"),
        ])
        let duplicate = onlyProblem(in: withService("  a: { urls: ['https://a', 'https://a:443'] }"))
        #expect(duplicate?.message == "duplicate endpoint https://a:443 (same as urls[0])")
    }
}
