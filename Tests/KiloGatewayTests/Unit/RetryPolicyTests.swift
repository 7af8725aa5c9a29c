import NIOHTTP1
import Testing

@testable import KiloGateway

@Suite struct RetryPolicyTests {
    private static let policy = RetryPolicy(maxAttempts: 3, backoff: .milliseconds(500))

    private static func facts(
        _ method: HTTPMethod = .GET,
        reused: Bool = false,
        written: Bool = false,
        responseBytes: Bool = false,
        clientBytes: Bool = false,
        replayable: Bool = true
    ) -> RetryPolicy.Facts {
        RetryPolicy.Facts(
            method: method, reusedConnection: reused, requestBytesWritten: written,
            responseBytesReceived: responseBytes, clientBytesWritten: clientBytes, bodyReplayable: replayable
        )
    }

    private func decide(
        _ failure: RetryPolicy.Failure, _ facts: RetryPolicy.Facts, attempts: Int = 1, jitter: Double = 1
    ) -> RetryPolicy.Decision {
        Self.policy.decide(failure, facts: facts, attemptsMade: attempts, jitter: jitter)
    }

    @Test(arguments: [HTTPMethod.GET, .HEAD, .POST, .PUT, .PATCH, .DELETE, .OPTIONS])
    func connectFailuresRetryForEveryMethod(_ method: HTTPMethod) {
        #expect(decide(.connect, Self.facts(method, replayable: false)) == .retry(.connect, delay: .milliseconds(500)))
    }

    @Test(arguments: [
        // attempts made, jitter, expected delay in ms
        (1, 1.0, 500), (1, 0.0, 250), (1, 0.5, 375),
        (2, 1.0, 1000), (2, 0.0, 500),
        (4, 1.0, 4000), (4, 0.0, 2000),
        (1, -3.0, 250), (1, 7.0, 500),
    ])
    func connectBackoffDoublesWithJitterInHalfToFull(_ attempts: Int, _ jitter: Double, _ milliseconds: Int) {
        let policy = RetryPolicy(maxAttempts: 10, backoff: .milliseconds(500))
        let decision = policy.decide(.connect, facts: Self.facts(), attemptsMade: attempts, jitter: jitter)
        #expect(decision == .retry(.connect, delay: .milliseconds(milliseconds)))
    }

    @Test func backoffIsBoundedForHugeAttemptCounts() {
        let policy = RetryPolicy(maxAttempts: .max, backoff: .milliseconds(500))
        let decision = policy.decide(.connect, facts: Self.facts(), attemptsMade: 1_000, jitter: 1)
        #expect(decision == .retry(.connect, delay: .milliseconds(500) * 65_536))
    }

    @Test func backoffStaysInsideTheJitterBand() {
        var random = SeededRandom(seed: 3)
        for attempts in 1...5 {
            let base = Duration.milliseconds(500) * (1 << (attempts - 1))
            for _ in 0..<200 {
                let policy = RetryPolicy(maxAttempts: 10, backoff: .milliseconds(500))
                let decision = policy.decide(.connect, facts: Self.facts(), attemptsMade: attempts, jitter: Double.random(in: 0..<1, using: &random))
                guard case .retry(.connect, let delay) = decision else {
                    Issue.record("expected a connect retry, got \(decision)")
                    return
                }
                #expect(delay >= base / 2 && delay <= base)
            }
        }
    }

    @Test(arguments: [
        // method, request bytes written, body replayable
        (HTTPMethod.GET, false, true), (.GET, true, true), (.POST, false, false), (.POST, true, true),
        (.PATCH, true, true), (.DELETE, true, true),
    ])
    func staleReusedConnectionRetriesAtOnce(_ method: HTTPMethod, _ written: Bool, _ replayable: Bool) {
        let facts = Self.facts(method, reused: true, written: written, replayable: replayable)
        #expect(decide(.closedBeforeResponse, facts) == .retry(.staleConnection, delay: .zero))
    }

    @Test(arguments: [HTTPMethod.POST, .PUT, .GET])
    func staleConnectionWithAStreamedBodyThatIsGoneGivesUp(_ method: HTTPMethod) {
        let facts = Self.facts(method, reused: true, written: true, replayable: false)
        #expect(decide(.closedBeforeResponse, facts) == .giveUp)
    }

    @Test(arguments: [HTTPMethod.GET, .HEAD, .PUT, .DELETE, .OPTIONS, .TRACE])
    func freshConnectionClosedAfterWritingRetriesIdempotentMethods(_ method: HTTPMethod) {
        let facts = Self.facts(method, reused: false, written: true, replayable: true)
        #expect(decide(.closedBeforeResponse, facts, attempts: 2) == .retry(.closedBeforeResponse, delay: .seconds(1)))
    }

    @Test(arguments: [HTTPMethod.POST, .PATCH, .CONNECT])
    func freshConnectionClosedAfterWritingGivesUpForOthers(_ method: HTTPMethod) {
        let facts = Self.facts(method, reused: false, written: true, replayable: true)
        #expect(decide(.closedBeforeResponse, facts) == .giveUp)
    }

    @Test func freshConnectionClosedBeforeWritingRetriesEvenPOST() {
        let facts = Self.facts(.POST, reused: false, written: false, replayable: false)
        #expect(decide(.closedBeforeResponse, facts) == .retry(.closedBeforeResponse, delay: .milliseconds(500)))
    }

    @Test(arguments: [RetryPolicy.Failure.connect, .closedBeforeResponse, .responseTimeout, .protocolError])
    func neverRetriesOnceTheClientGotBytes(_ failure: RetryPolicy.Failure) {
        #expect(decide(failure, Self.facts(reused: true, responseBytes: true, clientBytes: true)) == .giveUp)
    }

    @Test(arguments: [true, false])
    func neverRetriesAfterResponseBytesArrived(_ reused: Bool) {
        #expect(decide(.closedBeforeResponse, Self.facts(reused: reused, written: true, responseBytes: true)) == .giveUp)
    }

    @Test(arguments: [RetryPolicy.Failure.responseTimeout, .protocolError])
    func timeoutsAndProtocolErrorsGiveUp(_ failure: RetryPolicy.Failure) {
        #expect(decide(failure, Self.facts(reused: true)) == .giveUp)
        #expect(decide(failure, Self.facts(reused: false, written: false)) == .giveUp)
    }

    @Test func boundedByMaxAttempts() {
        let facts = Self.facts(reused: true)
        #expect(decide(.connect, facts, attempts: 2) != .giveUp)
        #expect(decide(.connect, facts, attempts: 3) == .giveUp)
        #expect(decide(.closedBeforeResponse, facts, attempts: 2) == .retry(.staleConnection, delay: .zero))
        #expect(decide(.closedBeforeResponse, facts, attempts: 3) == .giveUp)
        let single = RetryPolicy(maxAttempts: 1, backoff: .milliseconds(500))
        #expect(single.decide(.connect, facts: facts, attemptsMade: 1, jitter: 0) == .giveUp)
    }

    @Test func idempotentMethods() {
        for method in [HTTPMethod.GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE] {
            #expect(RetryPolicy.isIdempotent(method), "\(method)")
        }
        for method in [HTTPMethod.POST, .PATCH, .CONNECT, .RAW(value: "PURGE")] {
            #expect(!RetryPolicy.isIdempotent(method), "\(method)")
        }
    }

    @Test func reasonLabels() {
        #expect(RetryPolicy.Reason.connect.rawValue == "connect")
        #expect(RetryPolicy.Reason.staleConnection.rawValue == "stale_connection")
        #expect(RetryPolicy.Reason.closedBeforeResponse.rawValue == "closed_before_response")
    }
}
