import DemoUpstreams
import Foundation
import GatewayConfiguration
@testable import KiloGateway
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import Testing

@Suite(.serialized)
struct TLSListenerTests {
    @Test func http1OverTLSSaysHTTPSUpstream() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let leaf = try pki.issue(name: "gateway", serial: 1001)
        try await withTLSGateway(pki: pki, certificate: leaf.certificate, key: leaf.key) { gateway in
            let (response, certificate) = try await TLSTestClient.get("/api/echo/hello?x=1", port: gateway.tlsPort, caFile: pki.caCertificate)
            #expect(response.status == 200)
            let echo = try response.echo
            #expect(echo.uri == "/hello?x=1")
            #expect(echo.value("x-forwarded-proto") == "https")
            #expect(certificate == (try NIOSSLCertificate.fromPEMFile(leaf.certificate).first))
            // The plain listener keeps serving (`plainHTTP: serve`), and says so upstream.
            let plain = try await TestClient.get("/api/echo/plain", port: try #require(gateway.plainPort), group: TestGroups.client)
            #expect(plain.status == 200)
            #expect(try EchoReply(plain).value("x-forwarded-proto") == "http")
        }
    }

    @Test func http1WhenHTTP2IsNotOffered() async throws {
        try await withIssuedTLSGateway(serial: 1002, http2: false) { gateway in
            // A client offering both gets HTTP/1.1 (an h2 preface would fail to parse as HTTP/1).
            let (response, _) = try await TLSTestClient.get(
                "/api/echo/fallback", port: gateway.tlsPort, caFile: gateway.pki.caCertificate, alpn: ["h2", "http/1.1"])
            #expect(response.status == 200)
            // No ALPN at all: HTTP/1.1.
            let (bare, _) = try await TLSTestClient.get("/api/echo/bare", port: gateway.tlsPort, caFile: gateway.pki.caCertificate, alpn: [])
            #expect(bare.status == 200)
        }
    }

    @Test func http2StreamsAreIndependent() async throws {
        try await withIssuedTLSGateway(serial: 1003) { gateway in
            let connection = try await HTTP2TestConnection.connect(port: gateway.tlsPort, caFile: gateway.pki.caCertificate)
            defer { Task { await connection.close() } }
            let start = ContinuousClock.now
            let slow = Task { try await connection.get("/api/echo/slow?delay=3s") }
            // The slow stream is open first: its request has reached the upstream.
            let slowReached = await eventually { gateway.upstreams["echo"]!.stats.requestCount >= 1 }
            #expect(slowReached)
            let fast = try await withThrowingTaskGroup(of: TLSTestResponse.self) { group in
                for index in 0..<99 {
                    group.addTask { try await connection.get("/api/echo/stream/\(index)") }
                }
                var responses: [TLSTestResponse] = []
                for try await response in group { responses.append(response) }
                return responses
            }
            let fastDone = ContinuousClock.now
            #expect(fast.count == 99)
            #expect(fast.allSatisfy { $0.status == 200 })
            let paths = Set(try fast.map { try $0.echo.path })
            #expect(paths.count == 99)
            #expect(try fast[0].echo.value("x-forwarded-proto") == "https")
            #expect(fastDone - start < .milliseconds(2500), "99 quick streams waited for the slow one")
            let slowResponse = try await slow.value
            #expect(slowResponse.status == 200)
            #expect(slowResponse.finished - start >= .seconds(3))
            #expect(fast.allSatisfy { $0.finished < slowResponse.finished })
        }
    }

    /// The gateway grants each HTTP/2 stream 256 KiB of request body in flight, and the connection
    /// 1 MiB (HTTP/2's default, 64 KiB, caps an upload at 64 KiB per round trip); a stream never more.
    @Test func http2UploadsMayHave256KiBInFlightPerStream() async throws {
        try await withIssuedTLSGateway(serial: 1008) { gateway in
            let connection = try await HTTP2FrameConnection.connect(port: gateway.tlsPort, caFile: gateway.pki.caCertificate)
            defer { Task { await connection.close() } }
            let stream = HTTP2StreamID(1)
            try await connection.startUpload(stream: stream, path: "/api/echo/upload", bytes: 1024)
            let granted = await eventually(timeout: .seconds(3)) {
                connection.window(stream) >= (256 << 10) - 1024 && connection.window(.rootStream) >= (1 << 20) - 1024
            }
            #expect(granted, "send windows: stream \(connection.window(stream)), connection \(connection.window(.rootStream))")
            #expect(connection.window(stream) <= 256 << 10)
        }
    }

    @Test func certificateReloadAffectsNewConnectionsOnly() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        // Kubernetes' layout: the paths go through a `..data` symlink that an update swaps atomically.
        let secret = pki.directory.appendingPathComponent("secret")
        let first = try pki.issue(name: "tls", serial: 2001, in: secret.appendingPathComponent("..v1"))
        _ = first
        let data = secret.appendingPathComponent("..data")
        try FileManager.default.createSymbolicLink(atPath: data.path, withDestinationPath: "..v1")
        let certificatePath = data.appendingPathComponent("tls.pem").path
        let keyPath = data.appendingPathComponent("tls.key").path
        let firstCertificate = try NIOSSLCertificate.fromPEMFile(certificatePath).first
        try await withTLSGateway(pki: pki, certificate: certificatePath, key: keyPath) { gateway in
            let before = try await TLSTestClient.get("/api/echo/a", port: gateway.tlsPort, caFile: pki.caCertificate)
            #expect(before.certificate == firstCertificate)
            let kept = try await HTTP2TestConnection.connect(port: gateway.tlsPort, caFile: pki.caCertificate)
            defer { Task { await kept.close() } }
            #expect(try await kept.get("/api/echo/kept").status == 200)

            // Swap in a new certificate.
            try pki.issue(name: "tls", serial: 2002, in: secret.appendingPathComponent("..v2"))
            try swapSymlink(data, to: "..v2")
            let secondCertificate = try NIOSSLCertificate.fromPEMFile(certificatePath).first
            #expect(secondCertificate != firstCertificate)
            let deadline = ContinuousClock.now + .seconds(8)
            var seen = firstCertificate
            while ContinuousClock.now < deadline {
                seen = try await TLSTestClient.get("/api/echo/b", port: gateway.tlsPort, caFile: pki.caCertificate).certificate
                if seen == secondCertificate { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(seen == secondCertificate)
            // The connection opened before the swap keeps its certificate and keeps working.
            #expect(try await kept.peerCertificate == firstCertificate)
            #expect(try await kept.get("/api/echo/still").status == 200)

            // A broken update (key of another certificate) is refused: the last good one stays.
            let stray = try pki.issue(name: "stray", serial: 2003)
            let broken = secret.appendingPathComponent("..v3")
            try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: secret.appendingPathComponent("..v2/tls.pem").path, toPath: broken.appendingPathComponent("tls.pem").path)
            try FileManager.default.copyItem(atPath: stray.key, toPath: broken.appendingPathComponent("tls.key").path)
            try swapSymlink(data, to: "..v3")
            let reloadFailed = await eventually(timeout: .seconds(8)) { gateway.logs.logged.contains { $0.message.contains("reload failed") } }
            #expect(reloadFailed)
            let after = try await TLSTestClient.get("/api/echo/c", port: gateway.tlsPort, caFile: pki.caCertificate)
            #expect(after.response.status == 200)
            #expect(after.certificate == secondCertificate)
        }
    }

    @Test func plainHTTPRedirectsButServesProbes() async throws {
        try await withIssuedTLSGateway(serial: 1004, plainHTTP: .redirect) { gateway in
            let port = try #require(gateway.plainPort)
            let redirected = try await TestClient.get("/api/echo/x/y?z=1&w=%2F", port: port, group: TestGroups.client)
            #expect(redirected.status == 308)
            #expect(redirected.header("location") == "https://gateway.test:\(gateway.tlsPort)/api/echo/x/y?z=1&w=%2F")
            #expect(gateway.upstreams["echo"]!.stats.requestCount == 0)
            #expect(try await TestClient.get("/status", port: port, group: TestGroups.client).status == 308)
            #expect(try await TestClient.get("/healthz", port: port, group: TestGroups.client).status == 200)
            #expect(try await TestClient.get("/readyz", port: port, group: TestGroups.client).status == 200)
        }
    }

    @Test func plainHTTPOffBindsNoPlainListener() async throws {
        try await withIssuedTLSGateway(serial: 1005, plainHTTP: .off) { gateway in
            #expect(gateway.plainPort == nil)
            let (response, _) = try await TLSTestClient.get("/healthz", port: gateway.tlsPort, caFile: gateway.pki.caCertificate)
            #expect(response.status == 200)
        }
    }

    @Test func redirectLocation() {
        #expect(HTTPSRedirectHandler.location(host: "example.org:8080", uri: "/a?b", httpsPort: 443) == "https://example.org/a?b")
        #expect(HTTPSRedirectHandler.location(host: "[::1]:80", uri: "/", httpsPort: 8443) == "https://[::1]:8443/")
        #expect(HTTPSRedirectHandler.location(host: "bad host", uri: "/", httpsPort: 443) == nil)
        #expect(HTTPSRedirectHandler.location(host: nil, uri: "/", httpsPort: 443) == nil)
    }

    @Test func httpsUpstreamVerifiedWithCAFile() async throws {
        let pki = try TestPKI.make()
        defer { pki.remove() }
        let leaf = try pki.issue(name: "gateway", serial: 1006)
        let upstreamLeaf = try pki.issue(name: "upstream", serial: 1007)
        // Without an IP address SAN, so only the configured server name can make it valid.
        let namedLeaf = try pki.issue(name: "upstream-named", serial: 1008, ipAddress: false)
        let otherCA = try TestPKI.make(name: "Other CA")
        defer { otherCA.remove() }
        // One upstream server per service: pools are keyed by endpoint, so services sharing an endpoint
        // would share a pool (and its TLS settings).
        var upstreams: [TLSTestUpstream] = []
        var services: [String: (UpstreamURL, UpstreamTLS)] = [:]
        let settings: [String: UpstreamTLS] = [
            "secure": UpstreamTLS(caFile: pki.caCertificate),
            "named": UpstreamTLS(caFile: pki.caCertificate, serverName: "localhost"),
            "wrongname": UpstreamTLS(caFile: pki.caCertificate, serverName: "elsewhere.test"),
            "wrongca": UpstreamTLS(caFile: otherCA.caCertificate),
            "unverified": UpstreamTLS(caFile: otherCA.caCertificate, verify: false),
        ]
        for (name, upstreamTLS) in settings {
            let presented = name == "named" || name == "wrongname" ? namedLeaf : upstreamLeaf
            let upstream = try await TLSTestUpstream.start(certificate: presented.certificate, key: presented.key)
            upstreams.append(upstream)
            services[name] = (UpstreamURL(scheme: "https", host: "127.0.0.1", port: upstream.port), upstreamTLS)
        }
        do {
            try await withTLSGateway(pki: pki, certificate: leaf.certificate, key: leaf.key, extraServices: services) { gateway in
                for service in ["secure", "named", "unverified"] {
                    let (response, _) = try await TLSTestClient.get("/api/\(service)/x", port: gateway.tlsPort, caFile: pki.caCertificate)
                    #expect(response.status == 200, "\(service)")
                    #expect(response.text == #"{"tls":true}"#, "\(service)")
                }
                // Again on the same pool: the pooled TLS connection is reused.
                let again = try await TestClient.get("/api/secure/y", port: try #require(gateway.plainPort), group: TestGroups.client)
                #expect(again.status == 200)
                for service in ["wrongca", "wrongname"] {
                    let (response, _) = try await TLSTestClient.get("/api/\(service)/x", port: gateway.tlsPort, caFile: pki.caCertificate)
                    #expect(response.status == 502, "\(service)")
                    #expect(response.text.contains("connect_failed"), "\(service): \(response.text)")
                }
            }
        } catch {
            for upstream in upstreams { await upstream.stop() }
            throw error
        }
        for upstream in upstreams { await upstream.stop() }
    }
}

private func swapSymlink(_ link: URL, to target: String) throws {
    let temporary = link.deletingLastPathComponent().appendingPathComponent("..data_tmp")
    try? FileManager.default.removeItem(at: temporary)
    try FileManager.default.createSymbolicLink(atPath: temporary.path, withDestinationPath: target)
    guard rename(temporary.path, link.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
}
