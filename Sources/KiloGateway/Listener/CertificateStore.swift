#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOConcurrencyHelpers
import NIOSSL

/// The TLS listener's current server context, swapped when the certificate or key on disk changes.
///
/// Read once per new connection (never per request); a connection keeps the context it started
/// with, so a swap affects only connections accepted after it. The files are compared by content,
/// not by modification time: a Kubernetes Secret update swaps a symlink and keeps old timestamps.
final class CertificateStore: Sendable {
    let certificatePath: String
    let keyPath: String
    /// ALPN protocols offered, in order of preference.
    let applicationProtocols: [String]
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    private struct State {
        var context: NIOSSLContext
        /// The contents last tried (loaded or refused), so a bad pair is logged once, not every poll.
        var seenCertificate: [UInt8]
        var seenKey: [UInt8]
    }

    /// Loads the pair now; throws when it cannot, so a gateway never starts with a broken listener.
    init(certificatePath: String, keyPath: String, http2: Bool, logger: Logger) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.applicationProtocols = http2 ? ["h2", "http/1.1"] : ["http/1.1"]
        self.logger = logger
        let certificate = try Self.read(certificatePath)
        let key = try Self.read(keyPath)
        let context = try Self.makeContext(certificate: certificate, key: key, applicationProtocols: applicationProtocols)
        self.state = NIOLockedValueBox(State(context: context, seenCertificate: certificate, seenKey: key))
    }

    /// The context for a connection being accepted now.
    var current: NIOSSLContext { state.withLockedValue { $0.context } }

    /// Reads both files and swaps in a new context when their contents changed and load.
    /// - Returns: whether a new context is now in use.
    @discardableResult
    func reloadIfChanged() -> Bool {
        let certificate: [UInt8]
        let key: [UInt8]
        do {
            certificate = try Self.read(certificatePath)
            key = try Self.read(keyPath)
        } catch {
            // Mid-swap a file may be missing for a moment; the next poll sees the final state.
            return false
        }
        let changed = state.withLockedValue { $0.seenCertificate != certificate || $0.seenKey != key }
        guard changed else { return false }
        do {
            let context = try Self.makeContext(certificate: certificate, key: key, applicationProtocols: applicationProtocols)
            state.withLockedValue {
                $0.context = context
                $0.seenCertificate = certificate
                $0.seenKey = key
            }
            logger.info("TLS certificate reloaded", metadata: ["certificate": "\(certificatePath)"])
            return true
        } catch {
            state.withLockedValue {
                $0.seenCertificate = certificate
                $0.seenKey = key
            }
            logger.error(
                "TLS certificate reload failed; keeping the previous certificate",
                metadata: ["certificate": "\(certificatePath)", "key": "\(keyPath)", "error": "\(error)"])
            return false
        }
    }

    /// Polls the files every `interval` until the task is cancelled.
    func watch(every interval: Duration = .seconds(2)) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            reloadIfChanged()
        }
    }

    static func makeContext(certificate: [UInt8], key: [UInt8], applicationProtocols: [String]) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMBytes(certificate)
        guard !chain.isEmpty else { throw CertificateStoreError.noCertificate }
        let privateKey = try NIOSSLPrivateKey(bytes: key, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = applicationProtocols
        // BoringSSL refuses a key that does not match the leaf, so a half-updated pair never loads.
        return try NIOSSLContext(configuration: configuration)
    }

    private static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CertificateStoreError.unreadable(path) }
        return Array(data)
    }
}

enum CertificateStoreError: Error, CustomStringConvertible {
    case unreadable(String)
    case noCertificate

    var description: String {
        switch self {
        case .unreadable(let path): return "cannot read \"\(path)\""
        case .noCertificate: return "the certificate file holds no PEM certificate"
        }
    }
}
