import Logging
import NIOCore
import StreamGateConfig

/// A WebSocket connection after its handshake: carries frames byte for byte between the client and the upstream
/// with backpressure (a side is read only while the other can take its bytes), follows frame boundaries in both
/// directions so StreamGate's own Pings and Closes go between frames, swallows the Pongs that answer its Pings,
/// and applies the route's `websocket` idle timeout, ping intervals and max lifetime (`WebSocketDeadlines`). One
/// per tunnel, on the downstream connection's event loop; in the live registry under the id of the stream whose
/// upgrade it completed.
final class WebSocketTunnel {
    #if DEBUG
    private let debugInstanceCount = DebugInstanceCount(.webSocketTunnel)
    #endif
    /// What the registry shows of the tunnel besides its counters.
    struct Identity {
        var connection: LiveConnection?
        var streamID: UInt32
        var host: String?
        /// The status that answered the client's handshake (101; 200 on HTTP/2 shows as the upstream's 101).
        var status: Int
        var path: String
        var route: Route
        var upstreamAddress: String
        /// When the stream that upgraded started.
        var startedAt: NIODeadline
    }

    private let downstream: any TunnelEndpoint
    private let upstream: any TunnelEndpoint
    /// The event loop's clock and deadlines, where the tunnel keeps its one (`timerSlot`).
    private let timers: LoopTimers
    private let allocator: ByteBufferAllocator
    private let identity: Identity
    private let logger: Logger
    /// Payload of StreamGate's Pings; the Pongs carrying it are not forwarded.
    private let token: [UInt8]

    /// Frames from the client, masked.
    private var fromClient = WebSocketFrameTracker(masked: true)
    /// Frames from the upstream, unmasked.
    private var fromUpstream = WebSocketFrameTracker(masked: false)

    private var deadlines: WebSocketDeadlines
    var timerSlot = LoopTimerSlot.unarmed
    private var closing = false
    /// The Close code a drain sends the client, once a drain gave the tunnel its slot.
    private var drainCloseCode: UInt16 = 1001
    private var bytesFromClient = 0
    private var bytesToClient = 0
    private var pingsSent = 0

    private var clock: StreamClock { timers.clock }

    init(
        downstream: any TunnelEndpoint,
        upstream: any TunnelEndpoint,
        config: WebSocketConfig,
        timers: LoopTimers,
        allocator: ByteBufferAllocator,
        identity: Identity,
        logger: Logger
    ) {
        self.downstream = downstream
        self.upstream = upstream
        self.timers = timers
        self.allocator = allocator
        self.identity = identity
        self.logger = logger
        self.token = Array("sgping".utf8) + (0..<6).map { _ in UInt8.random(in: 0...255) }
        self.deadlines = WebSocketDeadlines(config: config, startedAt: identity.startedAt, now: timers.clock.now())
    }

    /// Wires both endpoints to the tunnel, registers it and starts its timers. The tunnel keeps itself alive until
    /// it shuts down; a channel endpoint holds it too, until the tunnel ends or the endpoint's channel closes, and
    /// an HTTP/2 endpoint holds it weakly.
    func start() {
        // Registered and retained first: wiring an endpoint may deliver bytes it held, which may end the tunnel.
        retainSelf = self
        identity.connection?.streamStarted(identity.streamID, self)
        if let slot = identity.connection?.lateDrainSlot(now: clock.now()) {
            deadlines.drainAt = slot.endAt
            drainCloseCode = slot.webSocketCloseCode
        }
        downstream.tunnel = self
        guard !closing else { return }
        upstream.tunnel = self
        guard !closing else { return }
        armTimer()
    }

    /// A tunnel is owned by nobody but itself while open: released when both sides are closed.
    private var retainSelf: WebSocketTunnel?

    // MARK: Bytes

    func received(_ buffer: ByteBuffer, from side: TunnelSide) {
        let now = clock.now()
        switch side {
        case .downstream:
            bytesFromClient += buffer.readableBytes
            let target = upstream
            fromClient.process(
                buffer,
                token: token,
                forward: { target.write($0) },
                swallowedPong: {},
                frameStarted: { opcode in if opcode != 0x9 && opcode != 0xA { self.deadlines.lastFrame = now } }
            )
            deadlines.lastSentToUpstream = now
            if let violation = fromClient.protocolViolation {
                fail(code: 1002, reason: "client broke WebSocket framing: \(violation)", outcome: .protocolError)
                return
            }
            if !upstream.isWritable {
                downstream.pauseReading()
                upstream.flush()
            }
        case .upstream:
            bytesToClient += buffer.readableBytes
            let target = downstream
            fromUpstream.process(
                buffer,
                token: token,
                forward: { target.write($0) },
                swallowedPong: {},
                frameStarted: { opcode in if opcode != 0x9 && opcode != 0xA { self.deadlines.lastFrame = now } }
            )
            deadlines.lastSentToClient = now
            if let violation = fromUpstream.protocolViolation {
                fail(code: 1002, reason: "upstream broke WebSocket framing: \(violation)", outcome: .protocolError)
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
        shutDown(outcome: .ok)
    }

    /// One side will send nothing more but still reads (an HTTP/2 END_STREAM): the other side's output is ended
    /// after what it was sent, and the tunnel lives on until that side closes too (or a timeout ends it).
    func inputEnded(_ side: TunnelSide) {
        guard retainSelf != nil, !closing else { return }
        logger.debug("WebSocket \(side) half-closed; ending the other side's output")
        switch side {
        case .downstream: upstream.finishWriting()
        case .upstream: downstream.finishWriting()
        }
    }

    /// Shutdown of StreamGate, or the admin closing the connection: Close 1001 to both sides, then close.
    func goAway(outcome: StreamOutcome = .drained) {
        fail(code: 1001, reason: "going away", outcome: outcome)
    }

    // MARK: Timers

    private func armTimer() {
        guard !closing, let (deadline, _) = deadlines.next else { return }
        do {
            try timers.arm(self, at: deadline)
        } catch {
            fail(code: 1001, reason: "going away", outcome: .drained)
        }
    }

    private func timerFired() {
        guard !closing else { return }
        switch deadlines.due(at: clock.now()) {
        case nil:
            break
        case .idle:
            fail(code: 1001, reason: "idle timeout", outcome: .timeoutIdle)
            return
        case .lifetime:
            fail(code: 1001, reason: "max lifetime reached", outcome: .timeoutLifetime)
            return
        case .drain:
            fail(code: drainCloseCode, upstreamCode: 1001, reason: "service restart", outcome: .drained)
            return
        case .pingClient:
            if fromUpstream.isAtFrameBoundary {
                downstream.write(WebSocketControlFrame.ping(payload: token, masked: false, allocator: allocator))
                downstream.flush()
                pingsSent += 1
            }
        case .pingUpstream:
            if fromClient.isAtFrameBoundary {
                upstream.write(WebSocketControlFrame.ping(payload: token, masked: true, allocator: allocator))
                upstream.flush()
            }
        }
        armTimer()
    }

    // MARK: Ending

    /// Sends Close `code` (the upstream `upstreamCode`, when given) to each side whose direction stands between
    /// frames, then closes both.
    private func fail(code: UInt16, upstreamCode: UInt16? = nil, reason: String, outcome: StreamOutcome) {
        guard !closing else { return }
        logger.info("WebSocket closing with \(code): \(reason)")
        if fromUpstream.isAtFrameBoundary {
            downstream.write(
                WebSocketControlFrame.close(code: code, reason: reason, masked: false, allocator: allocator)
            )
        }
        if fromClient.isAtFrameBoundary {
            upstream.write(
                WebSocketControlFrame.close(code: upstreamCode ?? code, reason: reason, masked: true, allocator: allocator)
            )
        }
        shutDown(outcome: outcome)
    }

    private func shutDown(outcome: StreamOutcome) {
        guard !closing else { return }
        closing = true
        timers.cancel(self)
        downstream.closeAfterFlush()
        upstream.closeAfterFlush()
        downstream.tunnel = nil
        upstream.tunnel = nil
        identity.connection?.streamEnded(identity.streamID, stream: self, outcome: outcome)
        retainSelf = nil
    }
}

extension WebSocketTunnel: LoopTimerOwner {
    func loopTimerFired() {
        timerFired()
    }
}

extension WebSocketTunnel: LiveStream {
    func snapshot(now: NIODeadline) -> StreamSnapshot {
        StreamSnapshot(
            id: identity.streamID,
            kind: .websocket,
            phase: closing ? .finished : .streaming,
            method: "GET",
            host: identity.host,
            path: identity.path,
            route: identity.route.displayName,
            routeName: identity.route.config.name,
            upstream: identity.route.upstream.name,
            upstreamAddress: identity.upstreamAddress,
            status: identity.status,
            ageMilliseconds: StreamSnapshot.milliseconds(from: identity.startedAt, to: now),
            idleMilliseconds: StreamSnapshot.milliseconds(
                from: max(deadlines.lastSentToClient, deadlines.lastSentToUpstream),
                to: now
            ),
            bytesIn: bytesFromClient,
            bytesOut: bytesToClient,
            events: 0,
            heartbeats: pingsSent,
            lastEventID: nil,
            queuedBytes: 0
        )
    }

    var counters: StreamCounters {
        StreamCounters(kind: .websocket, route: identity.route.label, events: 0, heartbeats: pingsSent)
    }

    func endGracefully(outcome: StreamOutcome) {
        goAway(outcome: outcome)
    }

    func serverGoingAway(outcome: StreamOutcome) {
        goAway(outcome: outcome)
    }

    func drain(_ slot: DrainSlot) {
        guard !closing, deadlines.drainAt == nil else { return }
        deadlines.drainAt = slot.endAt
        drainCloseCode = slot.webSocketCloseCode
        armTimer()
    }
}
