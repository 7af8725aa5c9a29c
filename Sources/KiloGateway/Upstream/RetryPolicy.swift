import NIOHTTP1

/// Decides whether a failed upstream attempt is tried again (DESIGN §5). Pure.
struct RetryPolicy {
    /// All tries, the first included.
    var maxAttempts: Int
    /// Base backoff for connect failures; doubles per retry.
    var backoff: Duration

    /// How an attempt failed.
    enum Failure: Equatable {
        /// The TCP connection could not be made (refused, DNS, timeout): nothing was sent.
        case connect
        /// The connection closed or reset before any response byte arrived.
        case closedBeforeResponse
        /// No response head within `timeouts.response`.
        case responseTimeout
        /// The upstream sent something that is not valid HTTP, or failed after the response started.
        case protocolError
    }

    /// What the exchange knew about the attempt when it failed.
    struct Facts: Equatable {
        var method: HTTPMethod
        /// The connection had served an earlier request (a stale keep-alive candidate).
        var reusedConnection: Bool
        /// Any byte of this request was written to the upstream.
        var requestBytesWritten: Bool
        /// Any byte of the response arrived from the upstream.
        var responseBytesReceived: Bool
        /// Any byte of the response was written to the client.
        var clientBytesWritten: Bool
        /// Every request body byte received so far is still held, so the request can be sent again.
        var bodyReplayable: Bool
    }

    /// Why a retry happens, used as a metrics label later.
    enum Reason: String, Equatable {
        case connect
        case staleConnection = "stale_connection"
        case closedBeforeResponse = "closed_before_response"
    }

    enum Decision: Equatable {
        /// Try again after `delay` (zero: at once, on a fresh connection).
        case retry(Reason, delay: Duration)
        case giveUp
    }

    /// - Parameters:
    ///   - attemptsMade: attempts so far, the failed one included.
    ///   - jitter: a number in 0..<1 from the caller's random source; the backoff is scaled into [50%, 100%].
    func decide(_ failure: Failure, facts: Facts, attemptsMade: Int, jitter: Double) -> Decision {
        guard attemptsMade < maxAttempts, !facts.clientBytesWritten else { return .giveUp }
        switch failure {
        case .connect:
            return .retry(.connect, delay: backoffDelay(retry: attemptsMade, jitter: jitter))
        case .closedBeforeResponse:
            guard !facts.responseBytesReceived else { return .giveUp }
            let canResend = !facts.requestBytesWritten || facts.bodyReplayable
            guard canResend else { return .giveUp }
            if facts.reusedConnection {
                return .retry(.staleConnection, delay: .zero)
            }
            // A fresh connection that dropped the request: the upstream may have acted on it,
            // so only requests that are safe to repeat go again (or ones it never saw).
            guard !facts.requestBytesWritten || Self.isIdempotent(facts.method) else { return .giveUp }
            return .retry(.closedBeforeResponse, delay: backoffDelay(retry: attemptsMade, jitter: jitter))
        case .responseTimeout, .protocolError:
            return .giveUp
        }
    }

    /// Methods that RFC 9110 §9.2.2 calls idempotent.
    static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: return true
        default: return false
        }
    }

    private func backoffDelay(retry: Int, jitter: Double) -> Duration {
        let exponent = min(max(retry - 1, 0), 16)
        let base = backoff * (1 << exponent)
        let scale = 0.5 + 0.5 * min(max(jitter, 0), 1)
        return base * scale
    }
}
