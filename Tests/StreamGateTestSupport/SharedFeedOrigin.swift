import Foundation

/// `Tests/Peers/shared_feed_origin.py` in a process of its own: an event-stream origin serving one feed on every path
/// (`id: n`, `data: {"seq": n, "via": PORT, "stream": K}`, K numbering the requests it answered), which depends only
/// on the time, so two origins started with the same epoch serve the same events. It reports every request (with its
/// Last-Event-ID, Cookie and Authorization) and every client connection that closes.
public final class SharedFeedOrigin: @unchecked Sendable {
    /// The script, next to this folder.
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Peers/shared_feed_origin.py")

    /// When event 0 of the feed was published (Unix seconds): event n follows `n * interval` later.
    public let epoch: Double
    public let port: Int
    public let peer: PythonPeer

    /// Starts an origin of the feed published from `epoch` on `port` (0: a free one) with `arguments` (e.g.
    /// `--interval 0.05`, `--status 503`), stopping by itself after `deadline` seconds; waits up to 10 s for its port.
    public init(
        epoch: Double = Date().timeIntervalSince1970,
        port: Int = 0,
        arguments: [String] = [],
        deadline: Double = 60
    ) throws {
        let feedArguments = ["--port", "\(port)", "--epoch", "\(epoch)", "--deadline", "\(deadline)"]
        let started = try PythonPeer.start(script: Self.script, arguments: feedArguments + arguments)
        self.port = try started.listeningPort(timeout: 10)
        self.epoch = epoch
        peer = started
    }

    /// `127.0.0.1:PORT`, as the proxy's upstream lists the server.
    public var address: String { "127.0.0.1:\(port)" }

    /// Every request so far, in order: `target`, `last_event_id`, `cookie`, `authorization` ("" when absent),
    /// `peer` (the proxy's address of that connection), `stream` (K) and `first` (the first event streamed).
    public var requests: [PythonPeerEvent] {
        peer.events.named("request")
    }

    /// The requests whose target starts with `prefix`.
    public func requests(to prefix: String) -> [PythonPeerEvent] {
        requests.filter { $0["target"]?.hasPrefix(prefix) ?? false }
    }

    /// When the client connection from `address` (a request's `peer`) closed (Unix seconds), or nil while open.
    public func closedAt(_ address: String) -> Double? {
        peer.events.named("closed").first { $0["peer"] == address }?.time
    }

    /// SIGKILL by PID, as a crashed server dies (no-op once it has exited); returns when it is gone.
    public func kill() {
        if peer.isRunning {
            peer.kill()
        }
    }
}
