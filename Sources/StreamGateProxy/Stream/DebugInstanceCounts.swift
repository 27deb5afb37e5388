#if DEBUG
import Synchronization

/// Debug builds only: how many of the per-stream objects are alive, so tests can check that each one is freed once
/// its stream ends. Their references to one another (stream and upstream handler, stream and HTTP/2 adapter,
/// tunnel and endpoints) are strong and broken when the stream ends or its channel closes; a missed break is a
/// leak these counts show. Release builds count nothing.
enum DebugInstanceCounts {
    enum Kind {
        case proxyStream, http2Downstream, webSocketTunnel
    }

    private static let proxyStreams = Atomic<Int>(0)
    private static let http2Downstreams = Atomic<Int>(0)
    private static let webSocketTunnels = Atomic<Int>(0)

    /// The three counts.
    static var current: (proxyStreams: Int, http2Downstreams: Int, webSocketTunnels: Int) {
        (
            proxyStreams.load(ordering: .relaxed),
            http2Downstreams.load(ordering: .relaxed),
            webSocketTunnels.load(ordering: .relaxed)
        )
    }

    fileprivate static func add(_ delta: Int, to kind: Kind) {
        switch kind {
        case .proxyStream: proxyStreams.add(delta, ordering: .relaxed)
        case .http2Downstream: http2Downstreams.add(delta, ordering: .relaxed)
        case .webSocketTunnel: webSocketTunnels.add(delta, ordering: .relaxed)
        }
    }
}

/// A stored property of a counted object: counts it when made, and uncounts it when the object is freed.
struct DebugInstanceCount: ~Copyable {
    private let kind: DebugInstanceCounts.Kind

    init(_ kind: DebugInstanceCounts.Kind) {
        self.kind = kind
        DebugInstanceCounts.add(1, to: kind)
    }

    deinit {
        DebugInstanceCounts.add(-1, to: kind)
    }
}
#endif
