import Testing

@testable import KiloGateway

@Suite struct HealthCheckCounterTests {
    /// Records `results` in order; returns which of them changed the health.
    static func record(
        _ counter: inout HealthCheckCounter, _ results: [Bool], healthyThreshold: Int = 2, unhealthyThreshold: Int = 3
    ) -> [Bool] {
        results.map { counter.record(success: $0, healthyThreshold: healthyThreshold, unhealthyThreshold: unhealthyThreshold) }
    }

    @Test func startsHealthyAndFlipsOnlyAtTheUnhealthyThreshold() {
        var counter = HealthCheckCounter()
        #expect(counter.healthy)
        let changes = Self.record(&counter, [false, false, false, false])
        #expect(changes == [false, false, true, false], "flips on the third failure only")
        #expect(!counter.healthy)
        #expect(counter.consecutiveFailures == 4)
    }

    @Test func aSuccessResetsTheFailureRun() {
        var counter = HealthCheckCounter()
        let changes = Self.record(&counter, [false, false, true, false, false])
        #expect(changes == [false, false, false, false, false])
        #expect(counter.healthy, "two failures after a success do not reach three")
        #expect(counter.consecutiveFailures == 2)
        #expect(counter.consecutiveSuccesses == 0)
    }

    @Test func comesBackOnlyAfterTheHealthyThreshold() {
        var counter = HealthCheckCounter(healthy: false)
        let changes = Self.record(&counter, [true, false, true, true, true])
        #expect(changes == [false, false, false, true, false], "a failure resets the success run")
        #expect(counter.healthy)
        #expect(counter.consecutiveSuccesses == 3)
    }

    @Test func thresholdsBelowOneCountAsOne() {
        var counter = HealthCheckCounter()
        let changes = Self.record(&counter, [false, true], healthyThreshold: -1, unhealthyThreshold: 0)
        #expect(changes == [true, true])
        #expect(counter.healthy)
    }
}
