import NIOCore

/// One live stream as it stood when a registry snapshot was taken: identity, route and upstream, and counters.
/// Plain values, copied on the stream's event loop.
public struct StreamSnapshot: Sendable, Equatable {
    /// The HTTP/2 stream id, or the request's position on its HTTP/1.1 connection (1, 2, ...).
    public var id: UInt32
    public var kind: StreamKind
    public var phase: StreamPhase
    public var method: String
    /// The Host (HTTP/2: `:authority`) the client sent, if any.
    public var host: String?
    /// The target as sent upstream (origin-form, query included).
    public var path: String
    /// The route's host pattern and path prefix, e.g. `*/events/`.
    public var route: String
    /// The route's `name`, when the config gives one.
    public var routeName: String?
    public var upstream: String
    /// The response status sent to the client (StreamGate's own for local answers), nil before the head.
    public var status: Int?
    /// The upstream server in use (`ip:port`), nil while none is.
    public var upstreamAddress: String?
    /// Milliseconds since the stream started.
    public var ageMilliseconds: Int64
    /// Milliseconds since the last byte in either direction.
    public var idleMilliseconds: Int64
    /// Request (or client-to-upstream tunnel) bytes taken from the client.
    public var bytesIn: Int
    /// Response (or upstream-to-client tunnel) bytes sent toward the client, heartbeats included.
    public var bytesOut: Int
    /// Server-sent events relayed.
    public var events: Int
    /// SSE heartbeat comments or WebSocket pings StreamGate sent.
    public var heartbeats: Int
    public var lastEventID: String?
    /// Response bytes waiting for the client to take them.
    public var queuedBytes: Int
    /// Times an event stream on a route with `sse.resume` went on after losing its upstream; nil for other streams.
    public var resumes: Int?
    /// For a subscriber of a shared feed (`sse.shared`): the feed's subscribers now and the events in its ring.
    public var shared: SharedFeedSummary?

    public init(
        id: UInt32, kind: StreamKind, phase: StreamPhase, method: String, host: String?, path: String,
        route: String, routeName: String?, upstream: String, upstreamAddress: String?, status: Int?,
        ageMilliseconds: Int64, idleMilliseconds: Int64, bytesIn: Int, bytesOut: Int, events: Int, heartbeats: Int,
        lastEventID: String?, queuedBytes: Int
    ) {
        self.id = id
        self.kind = kind
        self.phase = phase
        self.method = method
        self.host = host
        self.path = path
        self.route = route
        self.routeName = routeName
        self.status = status
        self.upstream = upstream
        self.upstreamAddress = upstreamAddress
        self.ageMilliseconds = ageMilliseconds
        self.idleMilliseconds = idleMilliseconds
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.events = events
        self.heartbeats = heartbeats
        self.lastEventID = lastEventID
        self.queuedBytes = queuedBytes
    }

    /// Milliseconds from `start` to `now`, never negative.
    static func milliseconds(from start: NIODeadline, to now: NIODeadline) -> Int64 {
        max(0, (now - start).nanoseconds / 1_000_000)
    }
}

/// One live downstream connection and its streams, as they stood when a snapshot was taken.
public struct ConnectionSnapshot: Sendable, Equatable {
    public var id: UInt64
    public var listener: String
    /// The client's `ip:port`.
    public var client: String
    /// `http/1.1` or `h2`; nil until the protocol is known (before the TLS handshake or the first bytes).
    public var protocolName: String?
    public var tls: TLSSummary?
    public var ageMilliseconds: Int64
    /// Bytes read from and written to the client socket (TLS records included).
    public var bytesIn: Int
    public var bytesOut: Int
    public var streams: [StreamSnapshot]
}

/// What a downstream TLS handshake settled.
public struct TLSSummary: Sendable, Equatable {
    /// `TLSv1.3`, `TLSv1.2`.
    public var version: String
    public var alpn: String?
    public var serverName: String?
}

/// Every live connection of the process, and the totals of what ended so far, as one snapshot.
public struct LiveSnapshot: Sendable {
    public var connections: [ConnectionSnapshot]
    public var totals: RegistryTotals

    /// The stream with `id` on connection `connection`, if live.
    public func stream(connection: UInt64, id: UInt32) -> StreamSnapshot? {
        connections.first { $0.id == connection }?.streams.first { $0.id == id }
    }

    /// Every live stream, of every connection.
    public var streams: [StreamSnapshot] {
        connections.flatMap(\.streams)
    }
}

/// A shared feed as one of its subscribers' snapshots shows it.
public struct SharedFeedSummary: Sendable, Equatable {
    public var subscribers: Int
    public var ringEvents: Int
}
