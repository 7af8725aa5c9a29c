import NIOHTTP1

/// Why the gateway answered a request itself instead of relaying an upstream's answer.
///
/// Each case maps to one status and a short, label-safe code (DESIGN §5).
struct GatewayError: Error, Equatable {
    var status: HTTPResponseStatus
    /// A stable code, safe as a metrics label and for log queries.
    var code: String
    /// A sentence for people.
    var message: String

    static func unknownService(_ name: String) -> GatewayError {
        GatewayError(status: .notFound, code: "unknown_service", message: "unknown service '\(name)'")
    }
    static let notFound = GatewayError(status: .notFound, code: "not_found", message: "no route for this path")
    static let methodNotAllowed = GatewayError(
        status: .methodNotAllowed, code: "method_not_allowed", message: "method not allowed")
    static func badRequest(_ message: String) -> GatewayError {
        GatewayError(status: .badRequest, code: "bad_request", message: message)
    }
    static func connectFailed(_ detail: String) -> GatewayError {
        GatewayError(status: .badGateway, code: "connect_failed", message: "cannot connect to upstream: \(detail)")
    }
    static func upstreamFailed(_ detail: String) -> GatewayError {
        GatewayError(status: .badGateway, code: "upstream_failed", message: "upstream failed: \(detail)")
    }
    static let responseTimeout = GatewayError(
        status: .gatewayTimeout, code: "response_timeout", message: "upstream sent no response headers in time")
    static let idleTimeout = GatewayError(
        status: .gatewayTimeout, code: "idle_timeout", message: "upstream exchange was idle too long")
    static let poolExhausted = GatewayError(
        status: .serviceUnavailable, code: "pool_exhausted", message: "upstream connection pool exhausted")
    static let draining = GatewayError(
        status: .serviceUnavailable, code: "draining", message: "gateway is shutting down")
    /// - Parameter what: what was counted (`request line and headers`, `request header list`).
    static func headersTooLarge(_ what: String, limit: Int) -> GatewayError {
        GatewayError(
            status: .requestHeaderFieldsTooLarge, code: "headers_too_large", message: "\(what) larger than \(limit) bytes")
    }
    static func bodyTooLarge(limit: Int) -> GatewayError {
        GatewayError(
            status: .payloadTooLarge, code: "body_too_large", message: "request body larger than \(limit) bytes")
    }
    static let noHealthyEndpoint = GatewayError(
        status: .serviceUnavailable, code: "no_healthy_endpoint", message: "no healthy upstream endpoint")
    static let tooManyRequests = GatewayError(
        status: .serviceUnavailable, code: "admission_limit",
        message: "too many requests in flight for this service")
    static let tooManyPending = GatewayError(
        status: .serviceUnavailable, code: "admission_limit",
        message: "too many requests waiting for an upstream connection")
}
