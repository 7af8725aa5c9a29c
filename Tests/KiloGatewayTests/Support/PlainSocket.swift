import NIOCore

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A loopback TCP socket driven with non-blocking system calls, so a test can fill it until the
/// kernel takes no more bytes: what a peer then reads comes in full buffers.
struct PlainSocket: Sendable {
    let fd: Int32

    /// Connects to 127.0.0.1:`port` with a send buffer of `sendBuffer` bytes.
    static func connect(port: Int, sendBuffer: Int32) throws -> PlainSocket {
        let socket = try make(sendBuffer: sendBuffer)
        var address = loopback(port: 0)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try socket.check(connected, "connect")
        return socket
    }

    /// Listens on 127.0.0.1 and an ephemeral port; accepted sockets get a `sendBuffer`-byte send buffer.
    static func listen(sendBuffer: Int32) throws -> (socket: PlainSocket, port: Int) {
        let socket = try make(sendBuffer: sendBuffer)
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket.fd, $0, length) == 0 && Glibc.listen(socket.fd, 8) == 0
                    && getsockname(socket.fd, $0, &length) == 0
            }
        }
        try socket.check(bound ? 0 : -1, "listen")
        try socket.check(fcntl(socket.fd, F_SETFL, fcntl(socket.fd, F_GETFL) | O_NONBLOCK), "fcntl")  // for `accept`
        return (socket, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// The next connection, waiting at most `timeout`.
    func accept(timeout: Duration = .seconds(3)) async throws -> PlainSocket {
        try await retrying("accept", timeout: timeout) {
            let fd = Glibc.accept(fd, nil, nil)
            return fd >= 0 ? PlainSocket(fd: fd) : nil
        }
    }

    /// Reads until a blank line ends an HTTP head, waiting at most `timeout`; returns the head.
    func receiveHead(timeout: Duration = .seconds(3)) async throws -> String {
        var head: [UInt8] = []
        return try await retrying("receive", timeout: timeout) {
            var byte: UInt8 = 0
            while recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) == 1 {
                head.append(byte)
                if head.suffix(4) == Array("\r\n\r\n".utf8) { return String(decoding: head, as: UTF8.self) }
            }
            return nil
        }
    }

    /// Sends `text` without blocking; throws if the kernel takes less.
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        try check(sent == bytes.count ? 0 : -1, "send")
    }

    /// Sends bytes without blocking until the kernel has taken nothing for a few tries, or `limit`
    /// bytes are sent; returns how many it took.
    func fill(limit: Int = .max) async throws -> Int {
        let chunk = [UInt8](repeating: 0x61, count: 64 << 10)
        var sent = 0
        var idleTries = 0
        while idleTries < 5 && sent < limit {
            let n = chunk.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, min($0.count, limit - sent), Int32(MSG_DONTWAIT)) }
            if n > 0 {
                sent += n
                idleTries = 0
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                idleTries += 1
                try await Task.sleep(for: .milliseconds(20))
            } else {
                throw IOError(errnoCode: errno, reason: "send")
            }
        }
        return sent
    }

    func close() {
        _ = Glibc.close(fd)
    }

    private static func make(sendBuffer: Int32) throws -> PlainSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        let socket = PlainSocket(fd: fd)
        var size = sendBuffer
        try socket.check(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size)), "setsockopt")
        return socket
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Throws (and closes the socket) when a call returned -1.
    private func check(_ result: Int32, _ call: StaticString) throws {
        guard result == -1 else { return }
        let code = errno
        close()
        throw IOError(errnoCode: code, reason: "\(call)")
    }

    /// Runs a non-blocking `attempt` every 5 ms until it returns a value, at most `timeout`.
    private func retrying<T>(_ call: String, timeout: Duration, _ attempt: () -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = attempt() { return value }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw IOError(errnoCode: ETIMEDOUT, reason: "\(call) timed out")
    }
}
