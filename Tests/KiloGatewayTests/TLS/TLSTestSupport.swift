import DemoUpstreams
import Foundation
import GatewayConfiguration
import KiloGateway
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// A throwaway PKI made with the `openssl` command line: a CA and leaf certificates it signs,
/// valid for `localhost` and `127.0.0.1`.
struct TestPKI: Sendable {
    let directory: URL
    let caCertificate: String
    let caKey: String

    enum Failure: Error { case openssl(String) }

    /// A new CA in a new temporary directory.
    static func make(name: String = "Kilo Test CA") throws -> TestPKI {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kilo-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let caKey = directory.appendingPathComponent("ca.key").path
        let caCertificate = directory.appendingPathComponent("ca.pem").path
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey,
            "-out", caCertificate, "-days", "2", "-subj", "/CN=\(name)",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        return TestPKI(directory: directory, caCertificate: caCertificate, caKey: caKey)
    }

    /// A leaf certificate and key signed by this CA, written to `{name}.pem` and `{name}.key` in `directory`;
    /// valid for `localhost`, and for `127.0.0.1` unless `ipAddress` is false.
    @discardableResult
    func issue(name: String, serial: Int, in directory: URL? = nil, ipAddress: Bool = true) throws -> (certificate: String, key: String) {
        let folder = directory ?? self.directory
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let key = folder.appendingPathComponent("\(name).key").path
        let csr = self.directory.appendingPathComponent("\(name)-\(serial).csr").path
        let certificate = folder.appendingPathComponent("\(name).pem").path
        let extensions = self.directory.appendingPathComponent("\(name)-\(serial).ext").path
        try """
            subjectAltName=DNS:localhost\(ipAddress ? ",IP:127.0.0.1" : "")
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth
            """.write(toFile: extensions, atomically: true, encoding: .utf8)
        try Self.openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=\(name)",
        ])
        try Self.openssl([
            "x509", "-req", "-in", csr, "-CA", caCertificate, "-CAkey", caKey, "-set_serial", String(serial), "-days", "2",
            "-out", certificate, "-extfile", extensions,
        ])
        return (certificate, key)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw Failure.openssl("openssl \(arguments.prefix(2).joined(separator: " ")): \(text)")
        }
    }
}

/// A response seen by the TLS test clients.
struct TLSTestResponse: Sendable {
    var head: HTTPResponseHead
    var body: ByteBuffer
    var finished: ContinuousClock.Instant

    var status: Int { Int(head.status.code) }
    var text: String { String(buffer: body) }
    func header(_ name: String) -> String? { head.headers.first(name: name) }

    var echo: EchoReply {
        get throws {
            try EchoReply(TestResponse(head: head, body: body, bodyLength: body.readableBytes, arrivals: [], complete: true))
        }
    }
}

/// Collects one HTTP response (HTTP/1.1 connection or HTTP/2 stream behind the HTTP/1 codec).
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<TLSTestResponse>
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<TLSTestResponse>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status.code >= 200 { self.head = head }
        case .body(var buffer):
            body.writeBuffer(&buffer)
        case .end:
            if let head {
                promise.succeed(TLSTestResponse(head: head, body: body, finished: .now))
            } else {
                promise.fail(ChannelError.eof)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}

enum TLSTestClient {
    static func clientContext(trusting caFile: String, alpn: [String]) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .file(caFile)
        configuration.applicationProtocols = alpn
        return try NIOSSLContext(configuration: configuration)
    }

    static func requestHead(_ uri: String, method: HTTPMethod = .GET, headers: [(String, String)] = []) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "host", value: "localhost")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        return head
    }

    /// One HTTP/1.1 request over TLS on a new connection; also returns the certificate the server presented.
    static func get(
        _ uri: String, port: Int, caFile: String, alpn: [String] = ["http/1.1"], headers: [(String, String)] = []
    ) async throws -> (response: TLSTestResponse, certificate: NIOSSLCertificate?) {
        let context = try clientContext(trusting: caFile, alpn: alpn)
        let promise = TestGroups.client.next().makePromise(of: TLSTestResponse.self)
        let channel = try await ClientBootstrap(group: TestGroups.client)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(ResponseCollector(promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        channel.write(HTTPClientRequestPart.head(requestHead(uri, headers: headers)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        do {
            let response = try await promise.futureResult.get()
            let certificate = try await channel.nioSSL_peerCertificate().get()
            try? await channel.close()
            return (response, certificate)
        } catch {
            try? await channel.close()
            throw error
        }
    }
}

/// One HTTP/2 connection over TLS (ALPN `h2`) on which streams are opened.
struct HTTP2TestConnection: Sendable {
    let channel: any Channel
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer

    static func connect(port: Int, caFile: String) async throws -> HTTP2TestConnection {
        let context = try TLSTestClient.clientContext(trusting: caFile, alpn: ["h2"])
        let (channel, multiplexer) = try await ClientBootstrap(group: TestGroups.client)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { () -> (any Channel, NIOHTTP2Handler.StreamMultiplexer) in
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    let multiplexer = try sync.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
                    ) { stream in stream.close() }
                    return (channel, multiplexer)
                }
            }
        return HTTP2TestConnection(channel: channel, multiplexer: multiplexer)
    }

    /// Opens a stream, sends a bodyless request on it and waits for the whole response, for at
    /// most 10 seconds.
    func get(_ uri: String, headers: [(String, String)] = []) async throws -> TLSTestResponse {
        let promise = channel.eventLoop.makePromise(of: TLSTestResponse.self)
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) { promise.fail(NoResponseInTime()) }
        defer { timeout.cancel() }
        let stream = try await multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                let sync = stream.pipeline.syncOperations
                try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .https))
                try sync.addHandler(ResponseCollector(promise: promise))
            }
        }.get()
        stream.write(HTTPClientRequestPart.head(TLSTestClient.requestHead(uri, headers: headers)), promise: nil)
        stream.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await promise.futureResult.get()
    }

    var peerCertificate: NIOSSLCertificate? {
        get async throws { try await channel.nioSSL_peerCertificate().get() }
    }

    func close() async {
        try? await channel.close()
    }

    struct NoResponseInTime: Error {}
}

/// A running gateway with a TLS listener, in front of demo upstreams.
struct TLSGatewayHarness: Sendable {
    let server: GatewayServer
    let tlsPort: Int
    /// `nil` when `plainHTTP` is `off`.
    let plainPort: Int?
    let upstreams: [String: DemoUpstream]
    let logs: LogCapture
    let pki: TestPKI
}

/// Like `withGateway`, with `tls:` set to the given certificate and key (issued by `pki`).
func withTLSGateway<T>(
    pki: TestPKI,
    certificate: String,
    key: String,
    http2: Bool = true,
    plainHTTP: PlainHTTPMode = .serve,
    limits: ClientLimits = ClientLimits(),
    upstreams: [String: Behaviour] = ["echo": Behaviour()],
    extraServices: [String: (UpstreamURL, UpstreamTLS)] = [:],
    _ body: (TLSGatewayHarness) async throws -> T
) async throws -> T {
    var started: [String: DemoUpstream] = [:]
    for (name, behaviour) in upstreams {
        started[name] = try await DemoUpstream.start(behaviour: behaviour, group: TestGroups.upstream)
    }
    var settings = ServiceSettings()
    settings.retries.backoff = .milliseconds(20)
    var services: [String: ServiceConfig] = [:]
    for (name, upstream) in started {
        services[name] = ServiceConfig(name: name, url: UpstreamURL(host: "127.0.0.1", port: upstream.port), settings: settings)
    }
    for (name, (url, upstreamTLS)) in extraServices {
        var serviceSettings = settings
        serviceSettings.upstreamTLS = upstreamTLS
        serviceSettings.retries.attempts = 1
        services[name] = ServiceConfig(name: name, url: url, settings: serviceSettings)
    }
    let config = GatewayConfig(
        listen: ListenAddress(host: "127.0.0.1", port: 0), drainTimeout: .seconds(5), defaults: settings, services: services,
        tls: TLSListener(listen: ListenAddress(host: "127.0.0.1", port: 0), certificate: certificate, key: key, http2: http2),
        plainHTTP: plainHTTP, limits: limits)
    let logs = LogCapture()
    let server = GatewayServer(
        config: config, logger: logs.logger, accessLog: AccessLog { logs.recordAccess($0) }, eventLoopGroup: TestGroups.gateway)
    do {
        try await server.start()
    } catch {
        for upstream in started.values { try? await upstream.stop() }
        throw error
    }
    let harness = TLSGatewayHarness(
        server: server, tlsPort: server.tlsLocalAddress!.port!, plainPort: server.localAddress?.port, upstreams: started,
        logs: logs, pki: pki)
    return try await runThenStop(server: server, upstreams: Array(started.values)) { try await body(harness) }
}

/// ``withTLSGateway`` with a new test CA and a certificate for the gateway from it (serial `serial`);
/// the CA's files are removed afterwards. The CA is `gateway.pki`.
func withIssuedTLSGateway<T>(
    serial: Int,
    http2: Bool = true,
    plainHTTP: PlainHTTPMode = .serve,
    limits: ClientLimits = ClientLimits(),
    _ body: (TLSGatewayHarness) async throws -> T
) async throws -> T {
    let pki = try TestPKI.make()
    defer { pki.remove() }
    let leaf = try pki.issue(name: "gateway", serial: serial)
    return try await withTLSGateway(
        pki: pki, certificate: leaf.certificate, key: leaf.key, http2: http2, plainHTTP: plainHTTP, limits: limits, body)
}

/// A tiny HTTPS upstream: NIOSSL in front of a handler that answers every request `200 {"tls":true}`.
final class TLSTestUpstream: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    private init(channel: any Channel) { self.channel = channel }

    static func start(certificate: String, key: String) async throws -> TLSTestUpstream {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ServerBootstrap(group: TestGroups.upstream)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: context))
                    try sync.configureHTTPServerPipeline()
                    try sync.addHandler(FixedReplyHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TLSTestUpstream(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }

    private final class FixedReplyHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            let body = #"{"tls":true}"#
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(body.utf8.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
