import GatewayConfiguration

/// What a request target resolves to.
enum Route: Equatable {
    /// A built-in endpoint answered by the gateway itself.
    case builtin(BuiltinEndpoint)
    /// A proxied request to a configured service.
    case service(ServiceRoute)
    /// The first path segment names no configured service or alias.
    case unknownService(String)
    /// The target cannot be routed at all (not origin-form, no service segment).
    case notFound
}

/// The built-in endpoints, compatible with the original gateway.
enum BuiltinEndpoint: Equatable {
    /// `/health`, `/status`: `{"status":"ok"}` (the original gateway's shape).
    case health
    /// `/healthz`: the process is alive.
    case liveness
    /// `/readyz`: ready to proxy; 503 while draining.
    case readiness
    /// `/metrics`: Prometheus text format.
    case metrics
    /// `/admin/status`: a boolean per service and per-endpoint details.
    case adminStatus
}

/// A request routed to a service: which one, and the target to send upstream.
struct ServiceRoute: Equatable {
    /// The canonical service name (aliases resolved).
    var service: String
    /// Index of the service in the route table, for per-service state arrays.
    var serviceIndex: Int
    /// The base path of the service's (first) endpoint.
    var basePath: String
    /// The rest of the path and the raw query, without any endpoint's base path.
    var pathAndQuery: String
    /// The client reached the service under `/api`.
    var viaAPI: Bool
    /// The service name as the client wrote it (an alias stays an alias); empty for `/socket.io`.
    var publicName: String

    /// Target sent upstream: the service's base path, the rest of the path, the raw query.
    var upstreamTarget: String { basePath.isEmpty ? pathAndQuery : basePath + pathAndQuery }

    /// The public prefix the client used (`/api/chat` or `/chat`), for rewriting `Location`.
    var publicPrefix: String {
        if publicName.isEmpty { return viaAPI ? "/api" : "" }
        return (viaAPI ? "/api/" : "/") + publicName
    }
}
