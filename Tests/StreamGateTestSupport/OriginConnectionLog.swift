import Foundation

/// What a `TestOrigin` has seen of its connections, safe to read from any thread: how many were accepted, how many
/// are open now, when each one closed, and the request targets received in order.
public final class OriginConnectionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var accepted = 0
    private var closeTimes: [Date] = []
    private var targets: [String] = []

    public init() {}

    /// Connections accepted since the origin started.
    public var acceptedCount: Int { lock.withLock { accepted } }

    /// Connections accepted and not yet closed.
    public var openCount: Int { lock.withLock { accepted - closeTimes.count } }

    /// Connections that have closed, whoever closed them.
    public var closedCount: Int { lock.withLock { closeTimes.count } }

    /// When each closed connection closed, in order.
    public var closedAt: [Date] { lock.withLock { closeTimes } }

    /// Every request target (`uri`) received, in arrival order.
    public var requestTargets: [String] { lock.withLock { targets } }

    func connectionAccepted() {
        lock.withLock { accepted += 1 }
    }

    func connectionClosed() {
        let now = Date()
        lock.withLock { closeTimes.append(now) }
    }

    func requestReceived(_ uri: String) {
        lock.withLock { targets.append(uri) }
    }

    /// Polls until `closedCount >= count` or `timeout` passes; returns whether it got there.
    public func waitForClosedConnections(_ count: Int, timeout: TimeInterval) -> Bool {
        Wait.until(timeout: timeout) { self.closedCount >= count }
    }
}
