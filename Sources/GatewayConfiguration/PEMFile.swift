import Foundation

/// Load-time checks of the PEM files a configuration names (TLS certificate, key, CA bundle).
///
/// Checked when the file is loaded, so `check-config` and a hot reload refuse a path that would only
/// fail later, when the listener starts or the first upstream handshake runs. Relative paths are taken
/// from the gateway's working directory.
enum PEMFile {
    enum Kind {
        case certificate
        case privateKey

        var marker: String {
            switch self {
            case .certificate: return "-----BEGIN CERTIFICATE-----"
            case .privateKey: return "PRIVATE KEY-----"
            }
        }

        var name: String {
            switch self {
            case .certificate: return "a PEM certificate"
            case .privateKey: return "a PEM private key"
            }
        }
    }

    /// Larger files are refused unread: certificate chains and keys are a few KiB, CA bundles a few hundred.
    static let maximumSize = 4 << 20

    /// Checks that `path` is a readable regular file holding at least one PEM block of `kind`.
    static func check(_ path: String, kind: Kind) throws(InvalidValue) {
        guard !path.isEmpty else { throw InvalidValue("expected a file path, got an empty string") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InvalidValue("file \"\(path)\" does not exist")
        }
        guard !isDirectory.boolValue else {
            throw InvalidValue("\"\(path)\" is a directory, expected \(kind.name) file")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: (path as NSString).resolvingSymlinksInPath)
        if let type = attributes?[.type] as? FileAttributeType, type != .typeRegular {
            throw InvalidValue("\"\(path)\" is not a regular file, expected \(kind.name) file")
        }
        if let size = (attributes?[.size] as? NSNumber)?.intValue, size > maximumSize {
            throw InvalidValue("file \"\(path)\" is too large for \(kind.name) (\(size) bytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidValue("file \"\(path)\" is not readable (permission denied or I/O error)")
        }
        guard let text = String(data: data, encoding: .utf8), text.contains(kind.marker), text.contains("-----BEGIN") else {
            throw InvalidValue("file \"\(path)\" does not contain \(kind.name)")
        }
    }
}
