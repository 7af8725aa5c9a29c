import NIOCore
import Testing

@testable import KiloGateway

@Suite struct LoopClockTests {
    /// Waits until the system clock has moved past `time` (bounded: it moves within microseconds).
    private func clockMoves(past time: NIODeadline) -> Bool {
        for _ in 0..<1_000_000 where NIODeadline.now() > time { return true }
        return false
    }

    @Test func outsideAScopeEveryCallReadsTheClock() {
        let clock = LoopClock()
        let first = clock.now()
        #expect(clockMoves(past: first))
        #expect(clock.now() > first)
    }

    @Test func insideAScopeTheFirstReadIsKept() {
        let clock = LoopClock()
        #expect(clock.openScope())
        let first = clock.now()
        #expect(clockMoves(past: first))
        #expect(clock.now() == first)
        clock.closeScope()
        #expect(clock.now() > first)
    }

    @Test func aNestedScopeKeepsTheOuterTimeAndLeavesTheOuterScopeOpen() {
        let clock = LoopClock()
        #expect(clock.openScope())
        let first = clock.now()
        #expect(!clock.openScope())  // nested: the caller must not close it
        #expect(clockMoves(past: first))
        #expect(clock.now() == first)
        clock.closeScope()
        #expect(clock.now() > first)
    }

    @Test func aScopeWithoutAReadTakesTheTimeOfItsFirstRead() {
        let clock = LoopClock()
        let before = NIODeadline.now()
        #expect(clock.openScope())
        #expect(clockMoves(past: before))
        let first = clock.now()
        #expect(first > before)
        #expect(clock.now() == first)
        clock.closeScope()
    }
}
