import Logging
import NIOCore
import StreamGateConfig

/// A WebSocket connection after its handshake: carries frames byte for byte between the client and the upstream
/// with backpressure (a side is read only while the other can take its bytes), follows frame boundaries in both
/// directions so StreamGate's own Pings and Closes go between frames, swallows the Pongs that answer its Pings,
/// and applies the route's `websocket` idle timeout, ping intervals and max lifetime. One per tunnel, on the
/// downstream connection's event loop.
final class WebSocketTunnel {
    private let downstream: any TunnelEndpoint
    private let upstream: any TunnelEndpoint
    private let config: WebSocketConfig
    private let eventLoop: any EventLoop
    private let allocator: ByteBufferAllocator
    private let logger: Logger
    /// Payload of StreamGate's Pings; the Pongs carrying it are not forwarded.
    private let token: [UInt8]

    /// Frames from the client, masked.
    private var fromClient = WebSocketFrameTracker(masked: true)
    /// Frames from the upstream, unmasked.
    private var fromUpstream = WebSocketFrameTracker(masked: false)

    private let startedAt: NIODeadline
    /// Last data or close frame in either direction (pings and pongs excluded).
    private var lastFrame: NIODeadline
    private var lastSentToClient: NIODeadline
    private var lastSentToUpstream: NIODeadline
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var closing = false
    private(set) var pingsSent = 0
    private(set) var pongsSwallowed = 0

    init(
        downstream: any TunnelEndpoint,
        upstream: any TunnelEndpoint,
        config: WebSocketConfig,
        eventLoop: any EventLoop,
        allocator: ByteBufferAllocator,
        logger: Logger
    ) {
        self.downstream = downstream
        self.upstream = upstream
        self.config = config
        self.eventLoop = eventLoop
        self.allocator = allocator
        self.logger = logger
        self.token = Array("sgping".utf8) + (0..<6).map { _ in UInt8.random(in: 0...255) }
        let now = NIODeadline.now()
        self.startedAt = now
        self.lastFrame = now
        self.lastSentToClient = now
        self.lastSentToUpstream = now
    }

    /// Wires both endpoints to the tunnel and starts its timers. Endpoints hold the tunnel weakly; the tunnel keeps
    /// itself alive until it shuts down.
    func start() {
        downstream.tunnel = self
        upstream.tunnel = self
        retainSelf = self
        armTimer()
    }

    /// A tunnel is owned by nobody but itself while open: released when both sides are closed.
    private var retainSelf: WebSocketTunnel?

    // MARK: Bytes

    func received(_ buffer: ByteBuffer, from side: TunnelSide) {
        let now = NIODeadline.now()
        switch side {
        case .downstream:
            let target = upstream
            fromClient.process(
                buffer,
                token: token,
                forward: { target.write($0) },
                swallowedPong: { self.pongsSwallowed += 1 },
                frameStarted: { opcode in if opcode != 0x9 && opcode != 0xA { self.lastFrame = now } }
            )
            lastSentToUpstream = now
            if let violation = fromClient.protocolViolation {
                fail(code: 1002, reason: "client broke WebSocket framing: \(violation)")
                return
            }
            if !upstream.isWritable {
                downstream.pauseReading()
                upstream.flush()
            }
        case .upstream:
            let target = downstream
            fromUpstream.process(
                buffer,
                token: token,
                forward: { target.write($0) },
                swallowedPong: { self.pongsSwallowed += 1 },
                frameStarted: { opcode in if opcode != 0x9 && opcode != 0xA { self.lastFrame = now } }
            )
            lastSentToClient = now
            if let violation = fromUpstream.protocolViolation {
                fail(code: 1002, reason: "upstream broke WebSocket framing: \(violation)")
                return
            }
            if !downstream.isWritable {
                upstream.pauseReading()
                downstream.flush()
            }
        }
    }

    func readComplete(from side: TunnelSide) {
        switch side {
        case .downstream: upstream.flush()
        case .upstream: downstream.flush()
        }
    }

    func becameWritable(_ side: TunnelSide) {
        switch side {
        case .downstream: upstream.resumeReading()
        case .upstream: downstream.resumeReading()
        }
    }

    /// One side closed: the other is closed after what it was sent.
    func closed(_ side: TunnelSide) {
        guard retainSelf != nil else { return }
        logger.debug("WebSocket \(side) closed; closing the other side")
        shutDown()
    }

    /// Shutdown of StreamGate: Close 1001 to both sides, then close.
    func goAway() {
        fail(code: 1001, reason: "going away")
    }

    // MARK: Timers

    private enum Deadline {
        case idle
        case lifetime
        case pingClient
        case pingUpstream
    }

    private func nextDeadline() -> (NIODeadline, Deadline)? {
        var next: (NIODeadline, Deadline)?
        func consider(_ interval: Duration, from start: NIODeadline, _ kind: Deadline) {
            guard interval > .zero else { return }
            let deadline = start + TimeAmount(interval)
            if let current = next, current.0 <= deadline { return }
            next = (deadline, kind)
        }
        consider(config.idleTimeout, from: lastFrame, .idle)
        consider(config.maxLifetime, from: startedAt, .lifetime)
        consider(config.pingInterval, from: lastSentToClient, .pingClient)
        consider(config.upstreamPingInterval, from: lastSentToUpstream, .pingUpstream)
        return next
    }

    private func armTimer() {
        guard !closing, let (deadline, _) = nextDeadline() else { return }
        if let timerDeadline, timerDeadline <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard !closing, let (deadline, kind) = nextDeadline() else { return }
        let now = NIODeadline.now()
        if deadline <= now {
            switch kind {
            case .idle:
                fail(code: 1001, reason: "idle timeout")
                return
            case .lifetime:
                fail(code: 1001, reason: "max lifetime reached")
                return
            case .pingClient:
                if fromUpstream.isAtFrameBoundary {
                    downstream.write(WebSocketControlFrame.ping(payload: token, masked: false, allocator: allocator))
                    downstream.flush()
                    pingsSent += 1
                }
                lastSentToClient = now
            case .pingUpstream:
                if fromClient.isAtFrameBoundary {
                    upstream.write(WebSocketControlFrame.ping(payload: token, masked: true, allocator: allocator))
                    upstream.flush()
                }
                lastSentToUpstream = now
            }
        }
        armTimer()
    }

    // MARK: Ending

    /// Sends Close `code` to each side whose direction stands between frames, then closes both.
    private func fail(code: UInt16, reason: String) {
        guard !closing else { return }
        logger.info("WebSocket closing with \(code): \(reason)")
        if fromUpstream.isAtFrameBoundary {
            downstream.write(
                WebSocketControlFrame.close(code: code, reason: reason, masked: false, allocator: allocator)
            )
        }
        if fromClient.isAtFrameBoundary {
            upstream.write(WebSocketControlFrame.close(code: code, reason: reason, masked: true, allocator: allocator))
        }
        shutDown()
    }

    private func shutDown() {
        guard !closing else { return }
        closing = true
        timer?.cancel()
        timer = nil
        downstream.closeAfterFlush()
        upstream.closeAfterFlush()
        downstream.tunnel = nil
        upstream.tunnel = nil
        retainSelf = nil
    }
}
