/// Where the load client connects and how: HTTP/2 over TLS to a proxy, or cleartext HTTP/1.1 straight to the
/// origin ("direct", one connection per stream).
struct LoadTarget: Sendable {
    enum Transport: Sendable {
        case http2TLS
        case http1Cleartext
    }

    var host = "127.0.0.1"
    var port: Int
    var transport: Transport
}

/// How much load: `connections` x `streamsPerConnection` streams, all GET `path`. For HTTP/1.1 every stream gets
/// its own connection, so the stream count stays the same.
struct LoadShape: Sendable {
    var connections: Int
    var streamsPerConnection: Int
    var path: String
    var recordLatency: Bool
    /// When set, every stream is a WebSocket echo connection of its own (HTTP/1.1 Upgrade to `path`; over TLS for
    /// a proxy, cleartext for direct) sending binary messages of this many bytes, one at a time.
    var webSocketMessageBytes: Int? = nil
    /// When set, every stream times the proxy's SSE heartbeats against this watch (`ClientStats.heartbeatLateness`).
    var heartbeats: HeartbeatWatch? = nil
    /// Every stream logs the ids of its events (`EventIDLog`, read with `LoadClient.trackedStreams()`); HTTP/2
    /// connections only.
    var trackEventIDs = false

    var totalStreams: Int { connections * streamsPerConnection }
}
