extension ServiceConfig {
    /// First path segments the gateway answers itself; a service or alias by one of these names could never be reached.
    /// Built-in paths, and the fixed keys of `/admin/status` (`gateway`, `checked_at`, `details`), which a service name would clash with.
    public static let reservedNames: Set<String> = [
        "socket.io", "admin", "health", "status", "healthz", "readyz", "metrics", "gateway", "checked_at", "details",
    ]

    /// Why `name` cannot name a service or alias, or nil when it can.
    ///
    /// Reserved names are compared case-insensitively so that `Admin` cannot shadow `admin`
    /// on a front proxy that folds case.
    static func problem(withName name: String, kind: String) -> String? {
        let allowed = !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
        guard allowed else {
            return "invalid \(kind) name \"\(name)\" (use letters, digits, _ . -)"
        }
        guard !reservedNames.contains(name.lowercased()) else {
            let list = reservedNames.sorted().joined(separator: ", ")
            return "\(kind) name \"\(name)\" is reserved for the gateway's own routes (\(list))"
        }
        return nil
    }
}
