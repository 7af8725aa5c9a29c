/// Reading the client-facing edge: `tls`, `plainHTTP`, `limits`, `headers`, `trustedProxies`, `websocket`, `socketIO`.
extension ConfigurationReader {
    static let tlsKeys = ["listen", "certificate", "key", "http2"]
    static let clientLimitKeys = [
        "maxHeaderBytes", "headerTimeout", "keepAliveTimeout", "maxConnections",
        "http2MaxConcurrentStreams", "http2MaxHeaderListSize",
    ]
    static let headerPolicyKeys = ["underscores"]
    static let websocketKeys = ["idleTimeout"]
    static let socketIOKeys = ["service"]

    /// The smallest header limits accepted: below 1 KiB ordinary browser requests would be refused.
    static let minimumHeaderBytes = 1024
    /// HTTP/2 SETTINGS values are 32-bit.
    static let http2SettingMaximum = Int(UInt32.max)

    /// `tls:` — certificate and key are required and must be readable PEM files now, not at first handshake.
    mutating func readTLS(_ entry: Entry) -> TLSListener? {
        guard let children = entries(of: entry.value, path: entry.path, line: entry.keyLine) else { return nil }
        var listen = ListenAddress(host: "0.0.0.0", port: 8443)
        var certificate: String?
        var key: String?
        var http2 = true
        var valid = true
        var seen: Set<String> = []
        for child in children {
            seen.insert(child.name)
            switch child.name {
            case "listen":
                if let value = value(child, expecting: "an address", ListenAddress.init(configuration:)) { listen = value } else { valid = false }
            case "certificate":
                certificate = pemPath(child, kind: .certificate)
                if certificate == nil { valid = false }
            case "key":
                key = pemPath(child, kind: .privateKey)
                if key == nil { valid = false }
            case "http2":
                if let value = bool(child) { http2 = value } else { valid = false }
            default:
                unknownKey(child, known: Self.tlsKeys)
                valid = false
            }
        }
        if !seen.contains("certificate") {
            report(entry.path + ".certificate", line: entry.keyLine,
                   "missing (path of the PEM certificate chain, e.g. /etc/kilo-gateway-tls/tls.crt)")
            valid = false
        }
        if !seen.contains("key") {
            report(entry.path + ".key", line: entry.keyLine,
                   "missing (path of the PEM private key, e.g. /etc/kilo-gateway-tls/tls.key)")
            valid = false
        }
        guard valid, let certificate, let key else { return nil }
        return TLSListener(listen: listen, certificate: certificate, key: key, http2: http2)
    }

    /// A path whose file is checked now; nil after reporting why it cannot be used.
    mutating func pemPath(_ entry: Entry, kind: PEMFile.Kind) -> String? {
        value(entry, expecting: "a file path") { (text) throws(InvalidValue) in
            try PEMFile.check(text, kind: kind)
            return text
        }
    }

    /// Two listeners collide when they share a port and one's address covers the other's.
    static func listenersCollide(_ a: ListenAddress, _ b: ListenAddress) -> Bool {
        // Port 0 asks the kernel for a free port, so two of them never collide.
        guard a.port == b.port, a.port != 0 else { return false }
        let wildcards: Set<String> = ["0.0.0.0", "::", "0:0:0:0:0:0:0:0"]
        return a.host.lowercased() == b.host.lowercased() || wildcards.contains(a.host) || wildcards.contains(b.host)
    }

    mutating func enumeration<T: RawRepresentable & CaseIterable>(_ entry: Entry, _ type: T.Type, what: String) -> T?
        where T.RawValue == String {
        let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
        return value(entry, expecting: "one of: \(allowed)") { (text) throws(InvalidValue) in
            guard let value = T(rawValue: text) else {
                throw InvalidValue("unknown \(what) \"\(text)\" (expected one of: \(allowed))")
            }
            return value
        }
    }

    /// A size no smaller than `minimum` and no larger than `maximum`.
    mutating func byteSize(_ entry: Entry, minimum: Int, maximum: Int = .max) -> Int? {
        value(entry, expecting: "a size (\(ByteSize.unitsHint))") { (text) throws(InvalidValue) in
            let bytes = try ByteSize.parse(text)
            guard bytes >= minimum else {
                throw InvalidValue("must be at least \(ByteSize.describe(minimum)), got \"\(text)\"")
            }
            guard bytes <= maximum else {
                throw InvalidValue("must be at most \(ByteSize.describe(maximum)), got \"\(text)\"")
            }
            return bytes
        }
    }

    /// `limits:` at the top level — client connections, not services.
    mutating func readClientLimits(_ entry: Entry) -> ClientLimits {
        var limits = ClientLimits()
        for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
            switch child.name {
            case "maxHeaderBytes":
                if let value = byteSize(child, minimum: Self.minimumHeaderBytes, maximum: Int(UInt32.max)) { limits.maxHeaderBytes = value }
            case "headerTimeout":
                if let value = duration(child, positive: true) { limits.headerTimeout = value }
            case "keepAliveTimeout":
                if let value = duration(child, positive: true) { limits.keepAliveTimeout = value }
            case "maxConnections":
                if let value = integer(child, in: 1...Int.max) { limits.maxConnections = value }
            case "http2MaxConcurrentStreams":
                if let value = integer(child, in: 1...Self.http2SettingMaximum) { limits.http2MaxConcurrentStreams = value }
            case "http2MaxHeaderListSize":
                if let value = byteSize(child, minimum: Self.minimumHeaderBytes, maximum: Self.http2SettingMaximum) {
                    limits.http2MaxHeaderListSize = value
                }
            default:
                if Self.limitKeys.contains(child.name) {
                    report(child.path, line: child.keyLine,
                           "\(child.name) is a per-service limit; set it under defaults.limits or a service's limits")
                } else {
                    unknownKey(child, known: Self.clientLimitKeys)
                }
            }
        }
        return limits
    }

    mutating func readHeaderPolicy(_ entry: Entry) -> HeaderPolicy {
        var policy = HeaderPolicy()
        for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
            switch child.name {
            case "underscores":
                if let value = enumeration(child, UnderscorePolicy.self, what: "underscore policy") { policy.underscores = value }
            default:
                unknownKey(child, known: Self.headerPolicyKeys)
            }
        }
        return policy
    }

    /// `trustedProxies:` — a list of networks, each problem reported against its item (`trustedProxies[1]`).
    mutating func readTrustedProxies(_ entry: Entry) -> [CIDR] {
        if Self.isNull(entry.value) { return [] }
        guard case .sequence(let items) = entry.value else {
            report(entry.path, line: entry.valueLine,
                   "expected a list of networks, got \(Self.kind(of: entry.value)) (as in [\"10.42.0.0/16\", \"127.0.0.1/32\"])")
            return []
        }
        var networks: [CIDR] = []
        for (index, item) in items.enumerated() {
            let itemEntry = Entry(name: "\(entry.name)[\(index)]", path: "\(entry.path)[\(index)]", keyLine: entry.keyLine, value: item)
            if let network = value(itemEntry, expecting: "a network (address/prefix)", CIDR.init(configuration:)) {
                networks.append(network)
            }
        }
        return networks
    }

    mutating func readWebSocket(_ entry: Entry) -> WebSocketSettings {
        var settings = WebSocketSettings()
        for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
            switch child.name {
            case "idleTimeout":
                if let value = duration(child, positive: true) { settings.idleTimeout = value }
            default:
                unknownKey(child, known: Self.websocketKeys)
            }
        }
        return settings
    }

    /// `socketIO:` — `service` must name a declared service; nil when absent or wrong.
    mutating func readSocketIO(_ entry: Entry, declaredServices: [String], aliases: [String: String]) -> SocketIOSettings? {
        guard let children = entries(of: entry.value, path: entry.path, line: entry.keyLine) else { return nil }
        var service: Entry?
        for child in children {
            switch child.name {
            case "service": service = child
            default: unknownKey(child, known: Self.socketIOKeys)
            }
        }
        guard let service else {
            report(entry.path + ".service", line: entry.keyLine, "missing (the service /socket.io/... is forwarded to)")
            return nil
        }
        guard let name = string(service) else { return nil }
        if declaredServices.contains(name) {
            return SocketIOSettings(service: name)
        }
        if let target = aliases[name] {
            report(service.path, line: service.valueLine, "\"\(name)\" is an alias; name the service \"\(target)\"")
        } else {
            let known = declaredServices.isEmpty ? "none are defined" : declaredServices.joined(separator: ", ")
            report(service.path, line: service.valueLine, "\"\(name)\" is not a service (services: \(known))")
        }
        return nil
    }

    /// `upstreamTLS:` — merged field by field over the inherited settings.
    mutating func applyUpstreamTLS(_ entry: Entry, to tls: inout UpstreamTLS) {
        for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
            switch child.name {
            case "caFile":
                if let path = pemPath(child, kind: .certificate) { tls.caFile = path }
            case "verify":
                if let value = bool(child) { tls.verify = value }
            case "serverName":
                if let value = self.value(child, expecting: "a host name", Self.serverName) { tls.serverName = value }
            default:
                unknownKey(child, known: Self.upstreamTLSKeys)
            }
        }
    }

    static let upstreamTLSKeys = ["caFile", "verify", "serverName"]

    /// A DNS name for SNI and certificate checks: letters, digits, `-` and `.` (a `*` would match nothing).
    private static func serverName(_ text: String) throws(InvalidValue) -> String {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, text.utf8.count <= 253,
              labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } })
        else {
            throw InvalidValue("invalid server name \"\(text)\" (a DNS name such as kilo-voice or voice.kilo.home)")
        }
        return text
    }
}

extension ByteSize {
    /// `1KiB`, `64KiB`, `4GiB` when exact, else the byte count; for messages.
    static func describe(_ bytes: Int) -> String {
        for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes)"
    }
}
