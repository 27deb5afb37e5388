import NIOCore

/// What the proxy tells the world outside its event loops about streams: each finished stream once (the access
/// log, the lifetime histogram) and each upstream response head's latency. Called on the stream's event loop,
/// once per stream, never per event; an implementation must not block (hand the work to its own thread).
public protocol StreamObserver: Sendable {
    func streamFinished(_ stream: FinishedStream)
    /// An upstream response head arrived `latency` after the request went up.
    func responseHeadArrived(route: String, latency: TimeAmount)
}

/// One finished stream, as the access log writes it: its connection, its last snapshot and how it ended.
public struct FinishedStream: Sendable {
    public var connectionID: UInt64
    public var listener: String
    public var client: String
    public var protocolName: String?
    public var stream: StreamSnapshot
    public var outcome: StreamOutcome
}
