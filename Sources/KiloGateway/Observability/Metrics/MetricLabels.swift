import NIOHTTP1

// Bounded label values of the gateway's metrics. Every enum here has a fixed, small set of
// cases, so a label drawn from it can never grow the number of time series.

/// How one upstream attempt ended: the `outcome` label of `kilo_gateway_upstream_attempts_total`.
public enum AttemptOutcome: String, CaseIterable, Sendable {
    /// A response arrived with a status below 500.
    case success
    /// The TCP connection could not be made.
    case connectError = "connect_error"
    /// A reused keep-alive connection turned out to be closed.
    case staleConnection = "stale_connection"
    /// The connection closed before the response was complete.
    case closedEarly = "closed_early"
    /// No response (head) within the configured timeout.
    case timeout
    /// The upstream sent something that is not valid HTTP.
    case protocolError = "protocol_error"
    /// The upstream answered with a 5xx status (it was reached: still an attempt).
    case upstream5xx = "upstream_5xx"

    /// Position among `allCases`, used as a cache index.
    var ordinal: Int {
        switch self {
        case .success: 0
        case .connectError: 1
        case .staleConnection: 2
        case .closedEarly: 3
        case .timeout: 4
        case .protocolError: 5
        case .upstream5xx: 6
        }
    }
}

/// Why an attempt was retried: the `reason` label of `kilo_gateway_upstream_retries_total`.
///
/// Same raw values as `RetryPolicy.Reason`: `RetryReason(rawValue: reason.rawValue)` converts.
public enum RetryReason: String, CaseIterable, Sendable {
    /// The previous attempt could not connect.
    case connect
    /// The previous attempt hit a stale keep-alive connection.
    case staleConnection = "stale_connection"
    /// The previous attempt's connection closed before any response byte.
    case closedBeforeResponse = "closed_before_response"

    /// Position among `allCases`, used as a cache index.
    var ordinal: Int {
        switch self {
        case .connect: 0
        case .staleConnection: 1
        case .closedBeforeResponse: 2
        }
    }
}

/// Why a request was turned away before reaching an upstream: the `reason` label of
/// `kilo_gateway_admission_rejections_total`.
public enum AdmissionRejectionReason: String, CaseIterable, Sendable {
    /// The service's concurrency limit was reached.
    case concurrency
    /// The queue of requests waiting for a connection was full (or the wait timed out).
    case pending
    /// Every endpoint of the service is unhealthy or ejected.
    case noHealthyEndpoint = "no_healthy_endpoint"
    /// A retry was refused because the service's retry budget is spent.
    case retryBudget = "retry_budget"

    /// Position among `allCases`, used as a cache index.
    var ordinal: Int {
        switch self {
        case .concurrency: 0
        case .pending: 1
        case .noHealthyEndpoint: 2
        case .retryBudget: 3
        }
    }
}

/// The `method` label: the seven common methods, everything else is `OTHER`.
enum MethodLabel: Int, CaseIterable {
    case get, head, post, put, patch, delete, options, other

    /// Label values, indexed by `rawValue`.
    static let names = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"]

    /// Number of distinct method labels.
    static let count = 8

    /// The label for `method`; no allocation for NIO's named cases.
    init(_ method: HTTPMethod) {
        switch method {
        case .GET: self = .get
        case .HEAD: self = .head
        case .POST: self = .post
        case .PUT: self = .put
        case .PATCH: self = .patch
        case .DELETE: self = .delete
        case .OPTIONS: self = .options
        case .RAW(let value):
            switch value {
            case "GET": self = .get
            case "HEAD": self = .head
            case "POST": self = .post
            case "PUT": self = .put
            case "PATCH": self = .patch
            case "DELETE": self = .delete
            case "OPTIONS": self = .options
            default: self = .other
            }
        default: self = .other
        }
    }

    /// The label value.
    var name: String { Self.names[rawValue] }
}

/// The `code` label: statuses outside 100...599 are counted as `0`.
enum StatusLabel {
    /// Size of the table indexed by a normalized status.
    static let tableSize = 600

    /// `status` if it is a valid HTTP status, else 0.
    static func normalize(_ status: Int) -> Int {
        status >= 100 && status < 600 ? status : 0
    }
}

extension [UInt8] {
    /// Appends a Prometheus label value with `\`, `"` and newline escaped.
    mutating func appendEscapedPrometheusLabelValue(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\""): append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\n"): append(contentsOf: #"\n"#.utf8)
            default: append(byte)
            }
        }
    }
}
