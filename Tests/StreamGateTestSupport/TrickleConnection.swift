#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A blocking TCP client for the slow-client tests: connects to 127.0.0.1:port, sends bytes as slowly as told,
/// and reads whatever comes back until the peer closes, every wait bounded by poll(2).
public final class TrickleConnection {
    private let fd: Int32
    private var closedByPeer = false
    public private(set) var received = ""
    /// How many bytes arrived (`received` holds them decoded as UTF-8, which binary bodies do not survive).
    public private(set) var receivedByteCount = 0
    /// When the peer closed the connection (seconds since the connection opened).
    public private(set) var closedAfter: TimeInterval?
    private let openedAt = Date()

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw TestSupportError("connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit {
        close(fd)
    }

    public var isClosedByPeer: Bool { closedByPeer }

    /// Sends `text`; false once the peer has closed.
    @discardableResult
    public func send(_ text: String) -> Bool {
        send(bytes: Array(text.utf8))
    }

    /// Sends `bytes` (any octets); false once the peer has closed.
    @discardableResult
    public func send(bytes: [UInt8]) -> Bool {
        guard !closedByPeer else { return false }
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return sent == bytes.count
    }

    /// Reads what arrives within `seconds` (returning early when the peer closes); true if the peer has closed.
    @discardableResult
    public func read(for seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while !closedByPeer {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, remaining * 1000))) > 0 else { break }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                closedByPeer = true
                closedAfter = Date().timeIntervalSince(openedAt)
            } else {
                receivedByteCount += count
                received += String(decoding: buffer[0..<count], as: UTF8.self)
            }
        }
        return closedByPeer
    }

    /// Sends `text` one byte every `interval` seconds, reading meanwhile, until it is all sent or the peer closed;
    /// true if the peer closed.
    @discardableResult
    public func trickle(_ text: String, interval: TimeInterval) -> Bool {
        for character in text {
            guard send(String(character)) else { break }
            if read(for: interval) { break }
        }
        return closedByPeer
    }
}
