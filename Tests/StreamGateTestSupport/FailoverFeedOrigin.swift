import Foundation

/// `Tests/Peers/failover_feed_origin.py` in a process of its own: an event-stream origin whose feed depends only on
/// the time, so a second origin, or the same one restarted on its port, serves the same events (`id: n`,
/// `data: {"seq": n, "via": PORT}`) from the request's Last-Event-ID on. Arguments such as `--replay-inclusive` or
/// `--exit-mid-event-at N` make it misbehave as the script describes.
public final class FailoverFeedOrigin: @unchecked Sendable {
    /// The feed all origins of one test serve: event n (1...count) is published at `epoch + n * interval` (Unix s).
    public struct Feed: Sendable {
        public let epoch: Double
        public let count: Int
        public let interval: Double

        /// A feed whose event 1 is published `interval` seconds from now.
        public init(count: Int, interval: Double) {
            epoch = Date().timeIntervalSince1970
            self.count = count
            self.interval = interval
        }

        /// How many events are published by now.
        public var published: Int {
            min(count, max(0, Int((Date().timeIntervalSince1970 - epoch) / interval)))
        }
    }

    /// The script, next to this folder.
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Peers/failover_feed_origin.py")

    public let feed: Feed
    public let port: Int
    public let peer: PythonPeer

    /// Starts an origin of `feed` on `port` (0: a free one) with `arguments` after the feed's, stopping by itself
    /// after `deadline` seconds; waits up to 10 s for its port.
    public init(feed: Feed, port: Int = 0, arguments: [String] = [], deadline: Double = 60) throws {
        let feedArguments = [
            "--port", "\(port)", "--epoch", "\(feed.epoch)", "--count", "\(feed.count)",
            "--interval", "\(feed.interval)", "--deadline", "\(deadline)",
        ]
        let started = try PythonPeer.start(script: Self.script, arguments: feedArguments + arguments)
        self.port = try started.listeningPort(timeout: 10)
        self.feed = feed
        peer = started
    }

    /// `127.0.0.1:PORT`, as the proxy's upstream lists the server.
    public var address: String { "127.0.0.1:\(port)" }

    /// The requests for the feed (`/feed...`) so far, in order: `last_event_id` ("" when absent), `first` (the
    /// first event streamed, "" when answered with --status), `peer`, `target`.
    public var feedRequests: [PythonPeerEvent] {
        peer.events.named("request").filter { $0["target"]?.hasPrefix("/feed") ?? false }
    }

    /// The Last-Event-ID of each feed request, in order ("" when absent).
    public var lastEventIDs: [String] {
        feedRequests.map { $0["last_event_id"] ?? "" }
    }

    /// SIGKILL by PID, as a crashed server dies (no-op once it has exited); returns when it is gone.
    public func kill() {
        if peer.isRunning {
            peer.kill()
        }
    }

    /// A new origin of the same feed on this one's port, with `arguments` (this one is killed first if it still
    /// runs).
    public func restart(arguments: [String] = [], deadline: Double = 60) throws -> FailoverFeedOrigin {
        kill()
        return try FailoverFeedOrigin(feed: feed, port: port, arguments: arguments, deadline: deadline)
    }
}
