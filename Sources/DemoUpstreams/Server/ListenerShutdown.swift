import NIOConcurrencyHelpers
import NIOCore

/// Stopping a demo server: refuse new connections, close the listener, then close every open
/// connection and wait for their close callbacks (so counters read 0 when it returns).
enum ListenerShutdown {
    static func stop(listener box: NIOLockedValueBox<(any Channel)?>, stopAccepting: () -> [any Channel]) async {
        let listener = box.withLockedValue { listener in
            defer { listener = nil }
            return listener
        }
        // Refuse first, so a connection accepted while the listener closes is closed rather than missed.
        let open = stopAccepting()
        if let listener {
            try? await listener.close()
        }
        await withTaskGroup(of: Void.self) { tasks in
            for channel in open {
                tasks.addTask {
                    try? await channel.close()
                    try? await channel.closeFuture.get()
                }
            }
        }
    }
}
