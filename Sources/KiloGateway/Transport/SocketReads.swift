import NIOCore

/// How much a connection reads from its socket per readable event, on each side of the gateway.
///
/// NIO keeps a channel's receive buffers for reuse, as many as it reads per event, at the largest
/// size they grew to, for as long as the connection lives. One read per event bounds what an idle
/// connection keeps to one buffer of its side's maximum. Each read still grows from 2 KiB while
/// reads fill the buffer, so a connection that only carries small messages keeps 2 KiB.
enum SocketReads {
    /// Client connections read up to 64 KiB (NIO's default). Measured on a release build: after
    /// 200 keep-alive clients had each uploaded 1 MiB, they kept 41 MiB between them with NIO's four
    /// reads per event and 4 MiB with one; after 50 clients' 4 MiB uploads had waited for a slow
    /// upstream, 12.6 MiB and 3 MiB. A plain 1 GiB upload took the same CPU either way (over TLS
    /// the runs disagreed, by 0 to 14%). Over TLS, NIOSSL keeps a buffer of its own per connection
    /// for decrypted bytes (32 KiB, growing to what one read decrypts), which this does not bound.
    static let client = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 64 * 1024)

    /// Upstream connections read up to 256 KiB. A large download then takes a quarter of the reads,
    /// and of the window updates that wake the upstream: one 1 GiB stream went from 0.71× nginx's
    /// throughput to 0.93-0.96×, at about 0.7 instead of 0.9 CPU seconds. Four reads of 256 KiB per
    /// event were faster still (1.08×) but kept up to 1 MiB in every pooled connection that had
    /// carried a download (12 MiB after 16 at once).
    static let upstream = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 256 * 1024)

    /// Reads per readable event on both sides (NIO's default is up to four).
    static let perEvent: UInt = 1
}
