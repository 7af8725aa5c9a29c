import Testing

@testable import KiloGateway

@Suite struct OutboxStateTests {
    @Test func smallWritesAreGatheredAndSentAtTheFlush() {
        var state = OutboxState(canSend: true)
        #expect(state.route(bytes: 300, hasPromise: false) == .gather)
        #expect(state.route(bytes: OutboxState.largestGathered, hasPromise: false) == .gather)
        #expect(state.flush(gathered: 300) == .send)
        #expect(state.flush(gathered: 0) == .nothing)
        #expect(state.withNIO == 0)
    }

    @Test func largeWritesFileRegionsAndPromisesGoThroughNIOCounted() {
        var state = OutboxState(canSend: true)
        #expect(state.route(bytes: OutboxState.largestGathered + 1, hasPromise: false) == .nio(track: true))
        #expect(state.route(bytes: nil, hasPromise: false) == .nio(track: true))
        #expect(state.route(bytes: 10, hasPromise: true) == .nio(track: true))
        #expect(state.withNIO == 3)
    }

    @Test func nothingIsSentWhileNIOHoldsBytesOfOurs() {
        var state = OutboxState(canSend: true)
        _ = state.route(bytes: 1 << 20, hasPromise: false)
        // Gathered bytes must not overtake the large write: they follow it through NIO, counted.
        #expect(state.route(bytes: 100, hasPromise: false) == .gather)
        #expect(state.flush(gathered: 100) == .nio(track: true))
        #expect(state.withNIO == 2)
        #expect(state.flush(gathered: 0) == .nio(track: false))  // NIO may still hold unflushed bytes
        state.nioWriteCompleted()
        #expect(state.flush(gathered: 50) == .nio(track: true))
        state.nioWriteCompleted()
        state.nioWriteCompleted()
        #expect(state.withNIO == 0)
        #expect(state.flush(gathered: 50) == .send)
    }

    @Test func aShortSendHandsTheRestToNIOUntilItIsWritten() {
        var state = OutboxState(canSend: true)
        #expect(state.flush(gathered: 1000) == .send)
        state.sendFellShort()
        #expect(state.flush(gathered: 10) == .nio(track: true))
        state.nioWriteCompleted()
        state.nioWriteCompleted()
        #expect(state.flush(gathered: 10) == .send)
    }

    @Test func behindTLSEverythingGoesThroughNIOUncounted() {
        var state = OutboxState(canSend: false)
        #expect(state.route(bytes: 100, hasPromise: false) == .gather)
        #expect(state.route(bytes: 1 << 20, hasPromise: false) == .nio(track: false))
        #expect(state.route(bytes: 1, hasPromise: true) == .nio(track: false))
        #expect(state.flush(gathered: 100) == .nio(track: false))
        #expect(state.flush(gathered: 0) == .nio(track: false))
        #expect(state.withNIO == 0)
        #expect(state.nioMayHoldBytes)  // uncounted, and the TLS handler holds bytes too: a close waits
    }

    @Test func aCloseWaitsOnlyWhileCountedWritesAreWithNIO() {
        var state = OutboxState(canSend: true)
        #expect(!state.nioMayHoldBytes)
        _ = state.route(bytes: 1 << 20, hasPromise: false)
        #expect(state.nioMayHoldBytes)
        state.nioWriteCompleted()
        #expect(!state.nioMayHoldBytes)
    }
}
