import Testing

@testable import KiloGateway

@Suite struct PoolStateTests {
    @Test func connectsUntilFullThenQueuesThenRejects() {
        var pool = PoolState(maxConnections: 2, maxQueue: 2)
        #expect(pool.lease(waiter: 1) == .connect)
        #expect(pool.lease(waiter: 2) == .connect)
        #expect(pool.connectingCount == 2)
        #expect(pool.lease(waiter: 3) == .wait)
        #expect(pool.lease(waiter: 4) == .wait)
        #expect(pool.lease(waiter: 5) == .reject)
        #expect(pool.waiters == [3, 4])
        #expect(pool.totalConnections == 2)
    }

    @Test func zeroQueueRejectsAtOnceAndLimitsAreClamped() {
        var pool = PoolState(maxConnections: 0, maxQueue: -3)
        #expect(pool.maxConnections == 1)
        #expect(pool.maxQueue == 0)
        #expect(pool.lease(waiter: 1) == .connect)
        #expect(pool.lease(waiter: 2) == .reject)
    }

    @Test func reusesIdleConnectionsMostRecentFirst() {
        var pool = PoolState(maxConnections: 3, maxQueue: 0)
        for waiter in 1...3 {
            #expect(pool.lease(waiter: waiter) == .connect)
            pool.connectSucceeded()
        }
        #expect(pool.leasedCount == 3)
        #expect(pool.release(10, reusable: true) == .park(10))
        #expect(pool.release(11, reusable: true) == .park(11))
        #expect(pool.release(12, reusable: true) == .park(12))
        #expect(pool.idle == [10, 11, 12])
        #expect(pool.lease(waiter: 4) == .useIdle(12))
        #expect(pool.lease(waiter: 5) == .useIdle(11))
        #expect(pool.idle == [10])
        #expect(pool.leasedCount == 2)
        #expect(pool.totalConnections == 3)
    }

    @Test func requireFreshNeverReusesAnIdleConnection() {
        var pool = PoolState(maxConnections: 3, maxQueue: 1)
        for _ in 1...2 {
            #expect(pool.lease(waiter: 0) == .connect)
            pool.connectSucceeded()
        }
        #expect(pool.release(10, reusable: true) == .park(10))
        #expect(pool.release(11, reusable: true) == .park(11))
        // Room left: connect anew and keep the idle ones.
        #expect(pool.lease(waiter: 1, requireFresh: true) == .connect)
        #expect(pool.idle == [10, 11])
        // Full: the least recently used idle connection makes room.
        #expect(pool.lease(waiter: 2, requireFresh: true) == .replaceIdle(10))
        #expect(pool.idle == [11])
        #expect(pool.connectingCount == 2)
        #expect(pool.totalConnections == 3)
        #expect(pool.idleConnectionClosed(10) == false)
        #expect(pool.lease(waiter: 3, requireFresh: true) == .replaceIdle(11))
        #expect(pool.lease(waiter: 4, requireFresh: true) == .wait)
        #expect(pool.lease(waiter: 5, requireFresh: true) == .reject)
        #expect(pool.totalConnections == 3)
    }

    @Test func releaseHandsOverToTheFirstWaiter() {
        var pool = PoolState(maxConnections: 1, maxQueue: 5)
        #expect(pool.lease(waiter: 1) == .connect)
        pool.connectSucceeded()
        #expect(pool.lease(waiter: 2) == .wait)
        #expect(pool.lease(waiter: 3) == .wait)
        #expect(pool.release(7, reusable: true) == .handOver(7, to: 2))
        #expect(pool.leasedCount == 1)
        #expect(pool.waiters == [3])
        #expect(pool.idle.isEmpty)
        #expect(pool.release(7, reusable: true) == .handOver(7, to: 3))
        #expect(pool.release(7, reusable: true) == .park(7))
        #expect(pool.leasedCount == 0)
        #expect(pool.idle == [7])
    }

    @Test func aQueuedFreshOnlyLeaseGetsANewConnectionNotAUsedOne() {
        var pool = PoolState(maxConnections: 1, maxQueue: 5)
        #expect(pool.lease(waiter: 1) == .connect)
        pool.connectSucceeded()
        #expect(pool.lease(waiter: 2, requireFresh: true) == .wait)
        #expect(pool.lease(waiter: 3) == .wait)
        #expect(pool.release(7, reusable: true) == .close(7, connectFor: 2))
        #expect(pool.connectingCount == 1)
        #expect(pool.leasedCount == 0)
        pool.connectSucceeded()
        #expect(pool.release(8, reusable: true) == .handOver(8, to: 3))
        #expect(pool.totalConnections == 1)
    }

    @Test func aCancelledFreshOnlyWaiterLeavesNoTrace() {
        var pool = PoolState(maxConnections: 1, maxQueue: 5)
        #expect(pool.lease(waiter: 1) == .connect)
        pool.connectSucceeded()
        #expect(pool.lease(waiter: 2, requireFresh: true) == .wait)
        #expect(pool.cancelWaiter(2) == true)
        // The same id queued again without the flag is served a used connection.
        #expect(pool.lease(waiter: 2) == .wait)
        #expect(pool.release(7, reusable: true) == .handOver(7, to: 2))
    }

    @Test func nonReusableReleaseClosesAndConnectsForAWaiter() {
        var pool = PoolState(maxConnections: 1, maxQueue: 5)
        #expect(pool.lease(waiter: 1) == .connect)
        pool.connectSucceeded()
        #expect(pool.lease(waiter: 2) == .wait)
        #expect(pool.release(7, reusable: false) == .close(7, connectFor: 2))
        #expect(pool.connectingCount == 1)
        #expect(pool.leasedCount == 0)
        #expect(pool.waiters.isEmpty)
        pool.connectSucceeded()
        #expect(pool.release(8, reusable: false) == .close(8, connectFor: nil))
        #expect(pool.totalConnections == 0)
    }

    @Test func connectFailureGivesTheSlotToAWaiter() {
        var pool = PoolState(maxConnections: 1, maxQueue: 5)
        #expect(pool.lease(waiter: 1) == .connect)
        #expect(pool.lease(waiter: 2) == .wait)
        #expect(pool.lease(waiter: 3) == .wait)
        #expect(pool.connectFailed() == 2)
        #expect(pool.connectingCount == 1)
        #expect(pool.waiters == [3])
        #expect(pool.connectFailed() == 3)
        #expect(pool.connectFailed() == nil)
        #expect(pool.totalConnections == 0)
        #expect(pool.lease(waiter: 4) == .connect)
    }

    @Test func idleConnectionClosedFreesItsSlot() {
        var pool = PoolState(maxConnections: 1, maxQueue: 1)
        #expect(pool.lease(waiter: 1) == .connect)
        pool.connectSucceeded()
        #expect(pool.release(5, reusable: true) == .park(5))
        #expect(pool.idleConnectionClosed(6) == false)
        #expect(pool.idleConnectionClosed(5) == true)
        #expect(pool.idleConnectionClosed(5) == false)
        #expect(pool.totalConnections == 0)
        #expect(pool.lease(waiter: 2) == .connect)
    }

    @Test func cancelWaiterRemovesOnlyThatWaiter() {
        var pool = PoolState(maxConnections: 1, maxQueue: 3)
        _ = pool.lease(waiter: 1)
        _ = pool.lease(waiter: 2)
        _ = pool.lease(waiter: 3)
        _ = pool.lease(waiter: 4)
        #expect(pool.cancelWaiter(3) == true)
        #expect(pool.cancelWaiter(3) == false)
        #expect(pool.cancelWaiter(1) == false)
        #expect(pool.waiters == [2, 4])
        #expect(pool.lease(waiter: 5) == .wait)
    }

    @Test func takeAllEmptiesIdleAndWaiters() {
        var pool = PoolState(maxConnections: 2, maxQueue: 2)
        _ = pool.lease(waiter: 1)
        pool.connectSucceeded()
        _ = pool.release(1, reusable: true)
        #expect(pool.takeAllIdle() == [1])
        #expect(pool.idle.isEmpty)
        _ = pool.lease(waiter: 2)
        _ = pool.lease(waiter: 3)
        _ = pool.lease(waiter: 4)
        #expect(pool.takeAllWaiters() == [4])
        #expect(pool.waiters.isEmpty)
    }

    /// Drives the state machine with random events (and a model of the connections the caller
    /// would hold) and checks the invariants after every step.
    @Test(arguments: [(1, 0), (1, 3), (4, 2), (8, 16)])
    func randomOperationsKeepInvariants(_ maxConnections: Int, _ maxQueue: Int) {
        var random = SeededRandom(seed: UInt64(maxConnections * 1000 + maxQueue))
        var pool = PoolState(maxConnections: maxConnections, maxQueue: maxQueue)
        var leased: [Int] = []  // connections the caller holds
        var connecting = 0  // connects the caller is waiting on
        var nextConnection = 1
        var nextWaiter = 1
        var served = 0
        var freshWaiters: Set<Int> = []  // queued retries that must not reuse a connection

        func newConnection() -> Int {
            defer { nextConnection += 1 }
            return nextConnection
        }

        for step in 0..<10_000 {
            switch Int.random(in: 0..<7, using: &random) {
            case 0, 1:
                let waiter = nextWaiter
                nextWaiter += 1
                let idleBefore = pool.idle
                let totalBefore = pool.totalConnections
                let requireFresh = Int.random(in: 0..<5, using: &random) == 0
                switch pool.lease(waiter: waiter, requireFresh: requireFresh) {
                case .useIdle(let connection):
                    #expect(!requireFresh && connection == idleBefore.last)
                    leased.append(connection)
                    served += 1
                case .connect:
                    #expect(requireFresh || idleBefore.isEmpty)
                    #expect(totalBefore < pool.maxConnections)
                    connecting += 1
                case .replaceIdle(let connection):
                    #expect(requireFresh && connection == idleBefore.first)
                    #expect(totalBefore == pool.maxConnections && !pool.idle.contains(connection))
                    connecting += 1
                case .wait:
                    #expect(idleBefore.isEmpty && pool.totalConnections == pool.maxConnections)
                    #expect(pool.waiters.last == waiter)
                    if requireFresh { freshWaiters.insert(waiter) }
                case .reject:
                    #expect(pool.waiters.count == pool.maxQueue && pool.totalConnections == pool.maxConnections)
                }
            case 2 where connecting > 0:
                connecting -= 1
                pool.connectSucceeded()
                leased.append(newConnection())
                served += 1
            case 3 where connecting > 0:
                connecting -= 1
                let first = pool.waiters.first
                if let waiter = pool.connectFailed() {
                    #expect(waiter == first)
                    freshWaiters.remove(waiter)
                    connecting += 1
                }
            case 4 where !leased.isEmpty:
                let connection = leased.remove(at: Int.random(in: 0..<leased.count, using: &random))
                let reusable = Bool.random(using: &random)
                let first = pool.waiters.first
                switch pool.release(connection, reusable: reusable) {
                case .handOver(let handed, let waiter):
                    #expect(reusable && handed == connection && waiter == first)
                    #expect(!freshWaiters.contains(waiter), "a used connection went to a retry that needs a fresh one")
                    leased.append(handed)
                    served += 1
                case .park(let parked):
                    #expect(reusable && parked == connection && first == nil)
                case .close(let closed, let waiter):
                    #expect(closed == connection)
                    #expect(waiter == first)
                    if reusable {
                        // Only a fresh-only waiter turns a reusable connection into a replacement.
                        #expect(waiter.map { freshWaiters.contains($0) } == true)
                    }
                    if let waiter {
                        freshWaiters.remove(waiter)
                        connecting += 1
                    }
                }
            case 5 where !pool.idle.isEmpty:
                let connection = pool.idle.randomElement(using: &random)!
                let wasIdle = pool.idleConnectionClosed(connection)
                #expect(wasIdle)
            case 6 where !pool.waiters.isEmpty:
                let waiter = pool.waiters.randomElement(using: &random)!
                let wasQueued = pool.cancelWaiter(waiter)
                #expect(wasQueued)
                freshWaiters.remove(waiter)
            default:
                break
            }
            #expect(pool.totalConnections <= pool.maxConnections, "step \(step)")
            #expect(pool.leasedCount == leased.count, "step \(step)")
            #expect(pool.connectingCount == connecting, "step \(step)")
            #expect(pool.waiters.count <= pool.maxQueue, "step \(step)")
            #expect(pool.idle.isEmpty || pool.waiters.isEmpty, "idle connections while requests wait, step \(step)")
            #expect(Set(pool.idle).count == pool.idle.count && Set(pool.idle).isDisjoint(with: leased), "step \(step)")
            #expect(freshWaiters.isSubset(of: pool.waiters), "step \(step)")
            // No waiter may be stranded while capacity is free.
            #expect(pool.waiters.isEmpty || pool.totalConnections == pool.maxConnections, "step \(step)")
        }
        #expect(served > 100)
    }
}
