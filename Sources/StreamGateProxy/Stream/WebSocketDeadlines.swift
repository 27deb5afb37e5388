import NIOCore
import StreamGateConfig

/// The clock side of one WebSocket tunnel: when its idle timeout, max lifetime and the two ping intervals fall due,
/// from the times of its last frames and writes. A value driven by the times given to it, so it runs the same
/// under a test's clock; `WebSocketTunnel` owns one and arms its timer for `next`.
struct WebSocketDeadlines {
    enum Kind: Equatable {
        /// No data or close frame either way for `idle_timeout`.
        case idle
        case lifetime
        /// Time to Ping the client (nothing went to it for `ping_interval`).
        case pingClient
        /// Time to Ping the upstream (nothing went to it for `upstream_ping_interval`).
        case pingUpstream
        /// The tunnel's end time in a drain.
        case drain
    }

    private let idleTimeout: TimeAmount
    private let maxLifetime: TimeAmount
    private let pingInterval: TimeAmount
    private let upstreamPingInterval: TimeAmount
    let startedAt: NIODeadline
    /// Last data or close frame in either direction (pings and pongs excluded).
    var lastFrame: NIODeadline
    var lastSentToClient: NIODeadline
    var lastSentToUpstream: NIODeadline
    /// When a drain closes the tunnel, once one started.
    var drainAt: NIODeadline?

    init(config: WebSocketConfig, startedAt: NIODeadline, now: NIODeadline) {
        self.idleTimeout = TimeAmount(config.idleTimeout)
        self.maxLifetime = TimeAmount(config.maxLifetime)
        self.pingInterval = TimeAmount(config.pingInterval)
        self.upstreamPingInterval = TimeAmount(config.upstreamPingInterval)
        self.startedAt = startedAt
        self.lastFrame = now
        self.lastSentToClient = now
        self.lastSentToUpstream = now
    }

    /// The earliest deadline of the tunnel; nil when every one is off.
    var next: (at: NIODeadline, kind: Kind)? {
        var next = EarliestDeadline<Kind>()
        func offer(_ interval: TimeAmount, from start: NIODeadline, _ kind: Kind) {
            if interval > .zero {
                next.offer(start + interval, kind)
            }
        }
        offer(idleTimeout, from: lastFrame, .idle)
        offer(maxLifetime, from: startedAt, .lifetime)
        offer(pingInterval, from: lastSentToClient, .pingClient)
        offer(upstreamPingInterval, from: lastSentToUpstream, .pingUpstream)
        next.offer(drainAt, .drain)
        return next.earliest
    }

    /// What is due at `now`, if anything. A ping counts as sent from `now` on, whether or not it could go out (it
    /// waits for no frame boundary: the next one is simply an interval later).
    mutating func due(at now: NIODeadline) -> Kind? {
        guard let (deadline, kind) = next, deadline <= now else { return nil }
        switch kind {
        case .pingClient: lastSentToClient = now
        case .pingUpstream: lastSentToUpstream = now
        case .idle, .lifetime, .drain: break
        }
        return kind
    }
}
