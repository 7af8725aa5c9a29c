import Yams

/// Reading the top level, `services:` and `aliases:`.
extension ConfigurationReader {
    static let topLevelKeys = [
        "listen", "workers", "drainTimeout", "accessLog", "tls", "plainHTTP", "limits", "headers",
        "trustedProxies", "websocket", "socketIO", "defaults", "services", "aliases",
    ]

    mutating func readGatewayConfig(_ root: Node) -> GatewayConfig {
        var config = GatewayConfig()
        guard let entries = entries(of: root, path: "", line: root.mark?.line) else { return config }
        var defaults: Entry?
        var services: Entry?
        var aliases: Entry?
        var listen: Entry?
        var tls: Entry?
        var plainHTTP: Entry?
        var socketIO: Entry?
        for entry in entries {
            switch entry.name {
            case "listen":
                listen = entry
                if let value = value(entry, expecting: "an address", ListenAddress.init(configuration:)) { config.listen = value }
            case "workers": if let value = integer(entry, in: 1...Int.max) { config.workers = value }
            case "drainTimeout": if let value = duration(entry, positive: false) { config.drainTimeout = value }
            case "accessLog": if let value = bool(entry) { config.accessLog = value }
            case "defaults": defaults = entry
            case "services": services = entry
            case "aliases": aliases = entry
            case "tls":
                tls = entry
                config.tls = readTLS(entry)
            case "plainHTTP":
                plainHTTP = entry
                if let value = enumeration(entry, PlainHTTPMode.self, what: "plainHTTP mode") { config.plainHTTP = value }
            case "limits": config.limits = readClientLimits(entry)
            case "headers": config.headers = readHeaderPolicy(entry)
            case "trustedProxies": config.trustedProxies = readTrustedProxies(entry)
            case "websocket": config.websocket = readWebSocket(entry)
            case "socketIO": socketIO = entry
            default: unknownKey(entry, known: Self.topLevelKeys)
            }
        }
        checkListeners(config, listen: listen, tls: tls, plainHTTP: plainHTTP)
        // Services merge over defaults, so defaults are read first wherever they sit in the file.
        if let defaults {
            config.defaults = readDefaults(defaults)
        }
        guard let services else {
            // Refused rather than defaulted: an empty service map would take every route down on reload.
            report("services", line: nil, "missing (list the upstreams, e.g. services: { financial: { url: http://kilo-financial:9005 } })")
            return config
        }
        let (serviceMap, declared) = readServices(services, defaults: config.defaults)
        config.services = serviceMap
        if let aliases {
            config.aliases = readAliases(aliases, declaredServices: declared)
        }
        if let socketIO {
            config.socketIO = readSocketIO(socketIO, declaredServices: declared, aliases: config.aliases)
        }
        return config
    }

    /// `plainHTTP` other than `serve` needs a TLS listener, and the two listeners may not share a port.
    private mutating func checkListeners(_ config: GatewayConfig, listen: Entry?, tls: Entry?, plainHTTP: Entry?) {
        if tls == nil, config.plainHTTP != .serve, let plainHTTP {
            report(plainHTTP.path, line: plainHTTP.valueLine,
                   "\(config.plainHTTP.rawValue) needs a tls: listener (without tls only serve is valid)")
        }
        guard let tlsListener = config.tls, let tls, Self.listenersCollide(config.listen, tlsListener.listen) else { return }
        // Reported on tls.listen when it was written, else on tls: (the default 0.0.0.0:8443 met listen's port).
        let written = (entries(of: tls.value, path: tls.path, line: tls.keyLine) ?? []).first { $0.name == "listen" }
        let listenText = listen == nil ? "the default listen \(config.listen)" : "listen (\(config.listen))"
        if let written {
            report(written.path, line: written.valueLine, "\(tlsListener.listen) uses the same port as \(listenText)")
        } else {
            report(tls.path + ".listen", line: tls.keyLine,
                   "the default \(tlsListener.listen) uses the same port as \(listenText); set tls.listen to another port")
        }
    }

    private mutating func readDefaults(_ entry: Entry) -> ServiceSettings {
        var settings = ServiceSettings()
        for child in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
            if child.name == "url" || child.name == "urls" {
                report(child.path, line: child.keyLine, "\(child.name) belongs on a service, not under defaults")
            } else if !applySetting(child, to: &settings) {
                unknownKey(child, known: Self.settingsKeys)
            }
        }
        return settings
    }

    /// The valid services, and every name declared (valid or not) so alias checks do not pile on.
    private mutating func readServices(_ entry: Entry, defaults: ServiceSettings) -> ([String: ServiceConfig], [String]) {
        var services: [String: ServiceConfig] = [:]
        var declared: [String] = []
        for service in entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? [] {
            declared.append(service.name)
            if let problem = ServiceConfig.problem(withName: service.name, kind: "service") {
                report(service.path, line: service.keyLine, problem)
            }
            var settings = defaults
            var url: Entry?
            var urls: Entry?
            var upstreamTLS: Entry?
            var endpoints: [UpstreamURL]?
            let children = entries(of: service.value, path: service.path, line: service.keyLine)
            for child in children ?? [] {
                switch child.name {
                case "url":
                    url = child
                    if case .sequence = child.value {
                        report(child.path, line: child.valueLine, "expected a url, got a list (use urls: for several endpoints)")
                    } else {
                        endpoints = value(child, expecting: "a url", UpstreamURL.init(configuration:)).map { [$0] }
                    }
                case "urls":
                    urls = child
                    endpoints = self.endpoints(child)
                default:
                    if child.name == "upstreamTLS" { upstreamTLS = child }
                    if !applySetting(child, to: &settings) {
                        unknownKey(child, known: ["url", "urls"] + Self.settingsKeys)
                    }
                }
            }
            guard children != nil else { continue }
            switch (url, urls) {
            case (nil, nil):
                report(service.path + ".url", line: service.keyLine,
                       "missing (every service needs url: http://host[:port], or urls: [...] for several endpoints)")
            case (.some, .some(let urls)):
                report(urls.path, line: urls.keyLine, "set either url (one endpoint) or urls (several), not both")
            case (.some, nil), (nil, .some):
                if let endpoints {
                    if let upstreamTLS, let plain = endpoints.firstIndex(where: { $0.scheme == "http" }) {
                        let which = url != nil ? "url" : "urls[\(plain)]"
                        report(upstreamTLS.path, line: upstreamTLS.keyLine,
                               "upstreamTLS set but \(which) is http:// (it applies only to https:// endpoints)")
                        continue
                    }
                    services[service.name] = ServiceConfig(name: service.name, endpoints: endpoints, settings: settings)
                }
            }
        }
        return (services, declared)
    }

    /// `urls:` — a non-empty list of distinct endpoints; each problem is reported against its item (`urls[1]`).
    private mutating func endpoints(_ entry: Entry) -> [UpstreamURL]? {
        guard case .sequence(let items) = entry.value else {
            report(entry.path, line: entry.valueLine,
                   "expected a list of urls, got \(Self.kind(of: entry.value)) (use url: for a single endpoint)")
            return nil
        }
        guard !items.isEmpty else {
            report(entry.path, line: entry.valueLine, "must list at least one url")
            return nil
        }
        var endpoints: [UpstreamURL] = []
        var firstIndex: [UpstreamURL: Int] = [:]
        var valid = true
        for (index, item) in items.enumerated() {
            let itemEntry = Entry(name: "\(entry.name)[\(index)]", path: "\(entry.path)[\(index)]", keyLine: entry.keyLine, value: item)
            guard let endpoint = value(itemEntry, expecting: "a url", UpstreamURL.init(configuration:)) else {
                valid = false
                continue
            }
            // Host names are case-insensitive, so http://A and http://a would be one endpoint counted twice.
            var identity = endpoint
            identity.host = endpoint.host.lowercased()
            if let first = firstIndex[identity] {
                report(itemEntry.path, line: itemEntry.valueLine, "duplicate endpoint \(endpoint) (same as \(entry.name)[\(first)])")
                valid = false
            } else {
                firstIndex[identity] = index
            }
            endpoints.append(endpoint)
        }
        return valid ? endpoints : nil
    }

    private mutating func readAliases(_ entry: Entry, declaredServices: [String]) -> [String: String] {
        var aliases: [String: String] = [:]
        let list = entries(of: entry.value, path: entry.path, line: entry.keyLine) ?? []
        let aliasNames = Set(list.map(\.name))
        for alias in list {
            if let problem = ServiceConfig.problem(withName: alias.name, kind: "alias") {
                report(alias.path, line: alias.keyLine, problem)
            }
            if declaredServices.contains(alias.name) {
                report(alias.path, line: alias.keyLine, "alias \"\(alias.name)\" is also a service name; remove one of them")
            }
            guard let target = string(alias) else { continue }
            if declaredServices.contains(target) {
                aliases[alias.name] = target
            } else if aliasNames.contains(target) {
                report(alias.path, line: alias.valueLine, "alias target \"\(target)\" is an alias; point it at a service")
            } else {
                let known = declaredServices.isEmpty ? "none are defined" : declaredServices.joined(separator: ", ")
                report(alias.path, line: alias.valueLine, "alias target \"\(target)\" is not a service (services: \(known))")
            }
        }
        return aliases
    }
}
