import NIOHTTP1

/// Why the gateway answered a request itself instead of relaying an upstream's answer.
///
/// Each case maps to one status and a short, label-safe code (DESIGN §5).
struct GatewayError: Error, Equatable {
    /// Where the failure came from, for logs: the client, the upstream, or the gateway.
    enum Source: String { case client, upstream, gateway }

    var status: HTTPResponseStatus
    /// A stable code, safe as a metrics label and for log queries.
    var code: String
    /// A sentence for people.
    var message: String
    var source: Source

    static func unknownService(_ name: String) -> GatewayError {
        GatewayError(status: .notFound, code: "unknown_service", message: "unknown service '\(name)'", source: .client)
    }
    static let notFound = GatewayError(status: .notFound, code: "not_found", message: "no route for this path", source: .client)
    static let methodNotAllowed = GatewayError(
        status: .methodNotAllowed, code: "method_not_allowed", message: "method not allowed", source: .client)
    static func badRequest(_ message: String) -> GatewayError {
        GatewayError(status: .badRequest, code: "bad_request", message: message, source: .client)
    }
    static func connectFailed(_ detail: String) -> GatewayError {
        GatewayError(status: .badGateway, code: "connect_failed", message: "cannot connect to upstream: \(detail)", source: .upstream)
    }
    static func upstreamFailed(_ detail: String) -> GatewayError {
        GatewayError(status: .badGateway, code: "upstream_failed", message: "upstream failed: \(detail)", source: .upstream)
    }
    static let responseTimeout = GatewayError(
        status: .gatewayTimeout, code: "response_timeout", message: "upstream sent no response headers in time", source: .upstream)
    static let idleTimeout = GatewayError(
        status: .gatewayTimeout, code: "idle_timeout", message: "upstream exchange was idle too long", source: .upstream)
    static let poolExhausted = GatewayError(
        status: .serviceUnavailable, code: "pool_exhausted", message: "upstream connection pool exhausted", source: .gateway)
    static let draining = GatewayError(
        status: .serviceUnavailable, code: "draining", message: "gateway is shutting down", source: .gateway)
    static let headersTooLarge = GatewayError(
        status: .requestHeaderFieldsTooLarge, code: "headers_too_large", message: "request headers too large", source: .client)
    static func bodyTooLarge(limit: Int) -> GatewayError {
        GatewayError(
            status: .payloadTooLarge, code: "body_too_large", message: "request body larger than \(limit) bytes", source: .client)
    }
    static let noHealthyEndpoint = GatewayError(
        status: .serviceUnavailable, code: "no_healthy_endpoint", message: "no healthy upstream endpoint", source: .gateway)
    static let tooManyRequests = GatewayError(
        status: .serviceUnavailable, code: "admission_limit",
        message: "too many requests in flight for this service", source: .gateway)
    static let tooManyPending = GatewayError(
        status: .serviceUnavailable, code: "admission_limit",
        message: "too many requests waiting for an upstream connection", source: .gateway)
    static let tooManyRedirects = GatewayError(
        status: .badGateway, code: "too_many_redirects", message: "upstream redirected too many times", source: .upstream)
}
