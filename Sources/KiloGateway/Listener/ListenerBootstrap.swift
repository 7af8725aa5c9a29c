import NIOCore
import NIOPosix

/// The server bootstrap both listeners share: socket options, half-closure for clients that
/// shut their write side, reads sized by ``SocketReads``, and each accepted channel configured
/// with its event loop's context.
enum ListenerBootstrap {
    static func make(
        group: any EventLoopGroup,
        loops: LoopContexts,
        configure: @escaping @Sendable (any Channel, LoopContext) throws -> Void
    ) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.recvAllocator, value: SocketReads.client)
            .childChannelOption(.maxMessagesPerRead, value: SocketReads.perEvent)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let loop = loops.context(for: channel.eventLoop) else {
                        throw ChannelError.ioOnClosedChannel
                    }
                    try configure(channel, loop)
                }
            }
    }
}
