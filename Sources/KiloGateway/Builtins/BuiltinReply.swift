import NIOHTTP1

/// The gateway's own endpoints: answered on the same pipeline, no upstream involved.
enum BuiltinReply {
    /// Status and JSON body for a built-in endpoint.
    static func reply(for endpoint: BuiltinEndpoint, draining: Bool) -> (status: HTTPResponseStatus, body: String) {
        switch endpoint {
        case .health, .liveness:
            return (.ok, #"{"status":"ok"}"#)
        case .readiness:
            return draining ? (.serviceUnavailable, #"{"status":"draining"}"#) : (.ok, #"{"status":"ready"}"#)
        case .metrics, .adminStatus:
            preconditionFailure("\(endpoint) is answered by its own reply")
        }
    }
}
