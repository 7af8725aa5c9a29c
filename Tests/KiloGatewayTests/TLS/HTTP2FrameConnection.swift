import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL

/// An HTTP/2 connection over TLS (ALPN `h2`) seen frame by frame, without a stream multiplexer:
/// for tests of what the gateway grants in flow control and of how streams end.
struct HTTP2FrameConnection: Sendable {
    let channel: any Channel
    private let frames: ServerFrames

    /// - Parameter validateHeaders: `false` lets the client send header blocks HTTP/2 forbids.
    static func connect(port: Int, caFile: String, validateHeaders: Bool = true) async throws -> HTTP2FrameConnection {
        let context = try TLSTestClient.clientContext(trusting: caFile, alpn: ["h2"])
        let frames = ServerFrames()
        let configuration = {
            var configuration = NIOHTTP2Handler.ConnectionConfiguration()
            configuration.headerBlockValidation = validateHeaders ? .enabled : .disabled
            return configuration
        }()
        let channel = try await ClientBootstrap(group: TestGroups.client)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try sync.addHandler(NIOHTTP2Handler(mode: .client, connectionConfiguration: configuration))
                    try sync.addHandler(ServerFrameCollector(frames: frames))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return HTTP2FrameConnection(channel: channel, frames: frames)
    }

    /// The gateway ended its response on `stream` (END_STREAM).
    func responseEnded(_ stream: HTTP2StreamID) -> Bool { frames.ended(stream) }

    /// The gateway reset `stream` (RST_STREAM).
    func wasReset(_ stream: HTTP2StreamID) -> Bool { frames.wasReset(stream) }

    /// Opens `stream` with a `POST` to `path` and sends `bytes` of body, without ending it.
    func startUpload(stream: HTTP2StreamID, path: String, bytes: Int) async throws {
        let headers = HPACKHeaders(Self.requestFields("POST", path))
        channel.write(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers))), promise: nil)
        let body = ByteBuffer(repeating: 0x61, count: bytes)
        try await channel.writeAndFlush(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(body))))).get()
        frames.sent(bytes, on: stream)
    }

    /// Opens `stream` with a bodyless `GET` of `path` carrying `headers` as well.
    func get(stream: HTTP2StreamID, path: String, headers: [(String, String)]) async throws {
        let fields = HPACKHeaders(Self.requestFields("GET", path) + headers)
        let frame = HTTP2Frame(streamID: stream, payload: .headers(.init(headers: fields, endStream: true)))
        try await channel.writeAndFlush(frame).get()
    }

    private static func requestFields(_ method: String, _ path: String) -> [(String, String)] {
        [(":method", method), (":scheme", "https"), (":authority", "localhost"), (":path", path)]
    }

    /// How much more the client may send now on `stream` (`.rootStream`: on the whole connection).
    func window(_ stream: HTTP2StreamID) -> Int {
        frames.window(stream)
    }

    func close() async {
        try? await channel.close()
    }
}

/// What the gateway's frames told the client: how each stream ended, and the client's send
/// windows: HTTP/2's initial 65,535 bytes (or the server's initial window
/// setting), plus the server's `WINDOW_UPDATE`s, minus the body bytes sent.
private final class ServerFrames: Sendable {
    private struct State {
        var initialStreamWindow = 65_535
        var changes: [HTTP2StreamID: Int] = [:]
        var ended: Set<HTTP2StreamID> = []
        var reset: Set<HTTP2StreamID> = []
    }
    private let state = NIOLockedValueBox(State())

    func granted(_ increment: Int, on stream: HTTP2StreamID) {
        state.withLockedValue { $0.changes[stream, default: 0] += increment }
    }

    func sent(_ bytes: Int, on stream: HTTP2StreamID) {
        state.withLockedValue {
            $0.changes[stream, default: 0] -= bytes
            $0.changes[.rootStream, default: 0] -= bytes
        }
    }

    func initialStreamWindow(_ size: Int) {
        state.withLockedValue { $0.initialStreamWindow = size }
    }

    func streamEnded(_ stream: HTTP2StreamID, reset: Bool) {
        state.withLockedValue { _ = reset ? $0.reset.insert(stream) : $0.ended.insert(stream) }
    }

    func ended(_ stream: HTTP2StreamID) -> Bool { state.withLockedValue { $0.ended.contains(stream) } }
    func wasReset(_ stream: HTTP2StreamID) -> Bool { state.withLockedValue { $0.reset.contains(stream) } }

    func window(_ stream: HTTP2StreamID) -> Int {
        state.withLockedValue { (stream == .rootStream ? 65_535 : $0.initialStreamWindow) + $0.changes[stream, default: 0] }
    }
}

private final class ServerFrameCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTP2Frame
    let frames: ServerFrames
    init(frames: ServerFrames) { self.frames = frames }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.payload {
        case .windowUpdate(let increment):
            frames.granted(increment, on: frame.streamID)
        case .headers(let headers) where headers.endStream:
            frames.streamEnded(frame.streamID, reset: false)
        case .data(let data) where data.endStream:
            frames.streamEnded(frame.streamID, reset: false)
        case .rstStream:
            frames.streamEnded(frame.streamID, reset: true)
        case .settings(.settings(let settings)):
            for setting in settings where setting.parameter == .initialWindowSize {
                frames.initialStreamWindow(setting.value)
            }
        default:
            break
        }
    }
}
