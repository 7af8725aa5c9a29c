import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Sends raw bytes and reads until the server closes or `timeout` passes: for pipelining,
/// half-close, HTTP/1.0 and malformed-request tests.
enum RawClient {
    struct Result {
        var text: String
        /// The server closed the connection (as opposed to the timeout ending the read).
        var closedByServer: Bool
    }

    /// A server that closes a connection with unread input makes the kernel send a reset: for
    /// this client that is the server closing, not a failure of the test.
    private static func isReset(_ error: any Error) -> Bool {
        if let error = error as? ChannelError { return error == .ioOnClosedChannel || error == .eof }
        guard let error = error as? IOError else { return false }
        return error.errnoCode == ECONNRESET || error.errnoCode == EPIPE
    }

    static func exchange(
        _ bytes: String, port: Int, group: any EventLoopGroup, halfClose: Bool = false,
        timeout: Duration = .seconds(3)
    ) async throws -> Result {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            do {
                try await outbound.write(ByteBuffer(string: bytes))
            } catch where isReset(error) {
                return Result(text: "", closedByServer: true)
            }
            if halfClose { outbound.finish() }
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    var text = ""
                    do {
                        for try await buffer in inbound { text += String(buffer: buffer) }
                    } catch where isReset(error) {}
                    return Result(text: text, closedByServer: true)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                if let first { return first }
                return Result(text: "", closedByServer: false)
            }
        }
    }
}
