/// The decisions of one endpoint's connection pool on one event loop, as a pure state machine.
///
/// It owns no sockets: callers report what happened (a lease is wanted, a connect finished,
/// a connection came back or closed) and carry out the returned action. Connections are
/// reused most-recently-used first so that surplus ones reach their idle timeout and close.
struct PoolState {
    typealias ConnectionID = Int
    typealias WaiterID = Int

    /// Most connections (idle, leased and connecting together).
    let maxConnections: Int
    /// Most waiters queued when every connection is busy.
    let maxQueue: Int

    private(set) var idle: [ConnectionID] = []
    private(set) var leasedCount = 0
    private(set) var connectingCount = 0
    /// Queued requesters, first come first served.
    private(set) var waiters: [WaiterID] = []
    /// Queued requesters that must get a new connection (retries after a stale one).
    private var freshWaiters: Set<WaiterID> = []

    init(maxConnections: Int, maxQueue: Int) {
        self.maxConnections = max(1, maxConnections)
        self.maxQueue = max(0, maxQueue)
    }

    /// Every connection the pool accounts for.
    var totalConnections: Int { idle.count + leasedCount + connectingCount }

    /// What to do for a new lease request.
    enum LeaseAction: Equatable {
        /// Hand over this idle connection (it is now leased).
        case useIdle(ConnectionID)
        /// Open a new connection for the requester (it counts as connecting).
        case connect
        /// Close this idle connection to make room, and open a new one (it counts as connecting).
        case replaceIdle(ConnectionID)
        /// The requester waits in the queue.
        case wait
        /// Pool and queue are full: refuse at once.
        case reject
    }

    /// - Parameter requireFresh: never reuse an idle connection (a retry after a stale one failed).
    mutating func lease(waiter: WaiterID, requireFresh: Bool = false) -> LeaseAction {
        if !requireFresh, let connection = idle.popLast() {
            leasedCount += 1
            return .useIdle(connection)
        }
        if totalConnections < maxConnections {
            connectingCount += 1
            return .connect
        }
        if requireFresh, !idle.isEmpty {
            // The least recently used idle connection is the likeliest to be stale too.
            connectingCount += 1
            return .replaceIdle(idle.removeFirst())
        }
        if waiters.count < maxQueue {
            waiters.append(waiter)
            if requireFresh { freshWaiters.insert(waiter) }
            return .wait
        }
        return .reject
    }

    /// A connect attempt started by `.connect` succeeded; the new connection is leased to its requester.
    mutating func connectSucceeded() {
        connectingCount -= 1
        leasedCount += 1
    }

    /// A connect attempt failed. When others wait, one of them gets the freed slot to try again.
    mutating func connectFailed() -> WaiterID? {
        connectingCount -= 1
        return startConnectForNextWaiter()
    }

    /// What to do with a connection that comes back from a lease.
    enum ReleaseAction: Equatable {
        /// Give it straight to this waiter (it stays leased).
        case handOver(ConnectionID, to: WaiterID)
        /// Keep it idle (start its idle timer).
        case park(ConnectionID)
        /// Close it; if a waiter is named, open a new connection for that waiter.
        case close(ConnectionID, connectFor: WaiterID?)
    }

    mutating func release(_ connection: ConnectionID, reusable: Bool) -> ReleaseAction {
        leasedCount -= 1
        if reusable {
            if let next = waiters.first {
                waiters.removeFirst()
                if freshWaiters.remove(next) != nil {
                    // A retry after a stale connection must not get a used one: replace this one.
                    connectingCount += 1
                    return .close(connection, connectFor: next)
                }
                leasedCount += 1
                return .handOver(connection, to: next)
            }
            idle.append(connection)
            return .park(connection)
        }
        return .close(connection, connectFor: startConnectForNextWaiter())
    }

    /// An idle connection closed (by the upstream, or by its idle timer). Returns whether it was idle here.
    @discardableResult
    mutating func idleConnectionClosed(_ connection: ConnectionID) -> Bool {
        guard let index = idle.lastIndex(of: connection) else { return false }
        idle.remove(at: index)
        return true
    }

    /// A waiter gave up (timeout, client gone). Returns whether it was still queued.
    @discardableResult
    mutating func cancelWaiter(_ waiter: WaiterID) -> Bool {
        guard let index = waiters.firstIndex(of: waiter) else { return false }
        waiters.remove(at: index)
        freshWaiters.remove(waiter)
        return true
    }

    /// Removes every idle connection, for shutdown or when the pool is discarded.
    mutating func takeAllIdle() -> [ConnectionID] {
        defer { idle.removeAll() }
        return idle
    }

    /// Removes every waiter, for shutdown.
    mutating func takeAllWaiters() -> [WaiterID] {
        defer {
            waiters.removeAll()
            freshWaiters.removeAll()
        }
        return waiters
    }

    private mutating func startConnectForNextWaiter() -> WaiterID? {
        guard !waiters.isEmpty, totalConnections < maxConnections else { return nil }
        connectingCount += 1
        let next = waiters.removeFirst()
        freshWaiters.remove(next)
        return next
    }
}
