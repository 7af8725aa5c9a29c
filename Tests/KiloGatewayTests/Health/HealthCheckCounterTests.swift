import Testing

@testable import KiloGateway

@Suite struct HealthCheckCounterTests {
    @Test func startsHealthyAndFlipsOnlyAtTheUnhealthyThreshold() {
        var counter = HealthCheckCounter()
        #expect(counter.healthy)
        #expect(!counter.record(success: false, healthyThreshold: 2, unhealthyThreshold: 3))
        #expect(!counter.record(success: false, healthyThreshold: 2, unhealthyThreshold: 3))
        #expect(counter.healthy)
        #expect(counter.record(success: false, healthyThreshold: 2, unhealthyThreshold: 3))
        #expect(!counter.healthy)
        #expect(counter.consecutiveFailures == 3)
        #expect(!counter.record(success: false, healthyThreshold: 2, unhealthyThreshold: 3), "already unhealthy")
        #expect(!counter.healthy)
    }

    @Test func aSuccessResetsTheFailureRun() {
        var counter = HealthCheckCounter()
        for _ in 0..<2 { counter.record(success: false, healthyThreshold: 2, unhealthyThreshold: 3) }
        #expect(!counter.record(success: true, healthyThreshold: 2, unhealthyThreshold: 3))
        #expect(counter.consecutiveFailures == 0)
        for _ in 0..<2 { #expect(!counter.record(success: false, healthyThreshold: 2, unhealthyThreshold: 3)) }
        #expect(counter.healthy, "two failures after a success do not reach three")
    }

    @Test func comesBackOnlyAfterTheHealthyThreshold() {
        var counter = HealthCheckCounter(healthy: false)
        #expect(!counter.record(success: true, healthyThreshold: 2, unhealthyThreshold: 3))
        #expect(!counter.record(success: false, healthyThreshold: 2, unhealthyThreshold: 3))
        #expect(counter.consecutiveSuccesses == 0, "a failure resets the success run")
        #expect(!counter.record(success: true, healthyThreshold: 2, unhealthyThreshold: 3))
        #expect(!counter.healthy)
        #expect(counter.record(success: true, healthyThreshold: 2, unhealthyThreshold: 3))
        #expect(counter.healthy)
        #expect(!counter.record(success: true, healthyThreshold: 2, unhealthyThreshold: 3), "already healthy")
    }

    @Test func thresholdsBelowOneCountAsOne() {
        var counter = HealthCheckCounter()
        #expect(counter.record(success: false, healthyThreshold: 0, unhealthyThreshold: 0))
        #expect(!counter.healthy)
        #expect(counter.record(success: true, healthyThreshold: -1, unhealthyThreshold: 0))
        #expect(counter.healthy)
    }
}
