import Logging
import NIOCore
import NIOHTTP1

/// One request/response exchange between a client and an upstream server, as the shell around its
/// `ProxyStreamStateMachine`: feeds the machine the events of the client side (`DownstreamResponder`), the upstream
/// connection and the clock, and carries out the actions it returns. All I/O is here, every decision is there.
/// Lives on the downstream connection's event loop; the upstream connection is opened on the same loop, so
/// nothing here needs a lock. Registered with its connection in the live registry from start to finish.
final class ProxyStream {
    #if DEBUG
    private let debugInstanceCount = DebugInstanceCount(.proxyStream)
    #endif
    var machine: ProxyStreamStateMachine
    /// The HTTP/2 stream id, or the request's position on its HTTP/1.1 connection (next to the machine, in the
    /// padding after it).
    let streamID: UInt32
    let lease: UpstreamLease
    /// The event loop's clock and deadlines, where the stream keeps its one (`timerSlot`).
    let timers: LoopTimers
    /// The connection's logger, shared: the stream's own metadata is added only when something is logged, so an
    /// idle stream keeps no logger storage of its own.
    private let connectionLogger: Logger
    let connection: LiveConnection?
    /// The Host the client sent, for the admin view and the access log.
    let host: String?
    var downstream: (any DownstreamResponder)?
    var upstream: (any UpstreamExchange)?
    var timerSlot = LoopTimerSlot.unarmed
    /// The upstream's trailer fields that pass to the client, set when its response ends.
    var responseTrailers: HTTPHeaders?

    init(
        route: Route,
        upstreamHead: HTTPRequestHead,
        isWebSocket: Bool,
        lease: UpstreamLease,
        timers: LoopTimers,
        downstream: any DownstreamResponder,
        connection: LiveConnection?,
        streamID: UInt32,
        host: String?,
        slowConsumerTimeout: TimeAmount = .zero,
        logger: Logger
    ) {
        self.host = host
        self.lease = lease
        self.timers = timers
        self.downstream = downstream
        self.connection = connection
        self.streamID = streamID
        self.connectionLogger = logger
        self.machine = ProxyStreamStateMachine(
            route: route,
            upstreamHead: upstreamHead,
            isWebSocket: isWebSocket,
            now: timers.clock.now(),
            slowConsumerTimeout: slowConsumerTimeout
        )
    }

    var route: Route { machine.route }

    var eventLoop: any EventLoop { timers.eventLoop }
    var clock: StreamClock { timers.clock }

    /// The logger with this stream's metadata; made on use (logging is rare on the hot path).
    var logger: Logger {
        var logger = connectionLogger
        logger[metadataKey: "stream"] = "\(streamID)"
        logger[metadataKey: "request"] = "\(machine.upstreamHead.method.rawValue) \(machine.upstreamHead.uri)"
        logger[metadataKey: "route"] = "\(route.logName)"
        logger[metadataKey: "upstream"] = "\(route.upstream.name)"
        return logger
    }

    /// A debug line; the stream's metadata is made only when debug lines are logged (most streams end with one).
    func debug(_ message: @autoclosure () -> Logger.Message) {
        if connectionLogger.logLevel <= .debug {
            logger.debug(message())
        }
    }

    // MARK: Downstream events

    func start() {
        connection?.streamStarted(streamID, self)
        perform(machine.start())
    }

    func receiveRequestBody(_ buffer: ByteBuffer) {
        perform(machine.requestBodyReceived(buffer, now: clock.now()))
    }

    func receiveRequestEnd() {
        perform(machine.requestEndReceived(now: clock.now()))
    }

    /// The downstream finished one read: push what it delivered upstream.
    func flushRequest() {
        if !machine.isConnecting {
            upstream?.flush()
        }
    }

    /// The client side can take response bytes again.
    func downstreamBecameWritable() {
        guard machine.isStreaming, downstream?.canTakeResponseBody ?? false else { return }
        machine.downstreamUnblocked()
        upstream?.resumeReading()
    }

    /// The client went away or reset the stream.
    func downstreamClosed() {
        perform(machine.downstreamClosed())
    }

    /// StreamGate's drain period is over (or the admin closes the connection): the connection is about to close.
    func serverGoingAway(outcome: StreamOutcome) {
        perform(machine.serverGoingAway(outcome: outcome))
    }

    // MARK: Actions

    func perform(_ action: ProxyStreamStateMachine.Action) {
        switch action {
        case .none:
            break
        case .leaseUpstream:
            leaseUpstream()
        case .retry:
            debug("reused upstream connection closed before responding; retrying on a new one")
            upstream?.close()
            upstream = nil
            leaseUpstream()
        case .sendRequest(let head, let body, let end):
            guard let upstream else { break }
            upstream.write(.head(head))
            for buffer in body {
                upstream.write(.body(.byteBuffer(buffer)))
            }
            if end {
                upstream.write(.end(nil))
            }
            upstream.flush()
            if upstream.isWritable {
                downstream?.resumeRequestBody()
            }
        case .pauseRequestBody:
            downstream?.pauseRequestBody()
        case .forwardRequestBody(let buffer):
            guard let upstream else { break }
            upstream.write(.body(.byteBuffer(buffer)))
            if !upstream.isWritable {
                // Pause before flushing: the flush may make the channel writable again at once, and that resume
                // must not be overtaken by this pause.
                downstream?.pauseRequestBody()
                upstream.flush()
            }
        case .forwardRequestEnd:
            upstream?.writeAndFlush(.end(nil))
        case .resumeUpstream:
            let lost = upstream?.serverIndex
            upstream?.close()
            upstream = nil
            reportResume()
            perform(
                machine.scheduleResumeAttempt(
                    avoiding: lost,
                    alternativeAvailable: lease.hasServerInService(otherThan: lost ?? machine.failover?.avoidServer),
                    jitter: Double.random(in: 0.5...1.5),
                    now: clock.now()
                )
            )
        case .sendResumeRequest(let head):
            upstream?.write(.head(head))
            upstream?.write(.end(nil))
            upstream?.flush()
        case .writeResponse(let head, let body, let flush):
            guard let downstream else { break }
            if let head {
                downstream.sendResponseHead(head)
            }
            if let body {
                downstream.sendResponseBody(body)
                if !downstream.canTakeResponseBody {
                    upstream?.pauseReading()
                    machine.downstreamBlocked(now: clock.now())
                }
            }
            if flush {
                downstream.flushResponse()
            }
        case .upgrade(let head):
            // The response decoder is still inside this read; switch the pipelines once it has returned.
            eventLoop.assumeIsolated().execute { [self] in
                completeUpgrade(head)
            }
        case .finish(let ending):
            reportResume()
            finish(ending)
        }
        if machine.resumeReport != nil {
            reportResume()
        }
        if machine.deadlinesMovedEarlier {
            machine.deadlinesMovedEarlier = false
            armTimer()
        }
    }

    private func leaseUpstream() {
        let avoiding = machine.failover?.avoidServer
        lease.acquire(
            forUpgrade: machine.isWebSocket,
            avoiding: avoiding,
            isWanted: { [self] in machine.wantsUpstream },
            connectFailed: { [self] failure in
                connection?.upstreamConnectFailed(upstream: route.upstream.name, server: failure.address)
                guard machine.wantsUpstream else { return false }
                let next = route.upstream.servers.count > 1 ? "; trying another server" : ""
                logger.warning("\(failure.description)\(next)")
                return true
            }
        ) { [self] result in
            switch result {
            case .success(let connection):
                guard machine.wantsUpstream else {
                    connection.close()
                    return
                }
                upstream = connection
                connection.delegate = self
                perform(machine.upstreamLeased(now: clock.now()))
            case .failure(let failure):
                perform(machine.upstreamUnavailable(failure))
            }
        }
    }

    // MARK: Timer

    private func armTimer() {
        guard let (deadline, _) = machine.nextDeadline else { return }
        do {
            try timers.arm(self, at: deadline)
        } catch {
            // The event loop is shutting down: no deadline could ever fire, so the stream must not go on.
            perform(machine.abandon(reason: "cannot schedule the stream's timer: \(error)"))
        }
    }
}

extension ProxyStream: LoopTimerOwner {
    func loopTimerFired() {
        if let server = upstream?.server, machine.failover?.phase == .relaying, !server.isAvailable(at: .now()),
            lease.hasServerInService(otherThan: upstream?.serverIndex)
        {
            let reason = "upstream server \(server.address) is \(server.state().rawValue)"
            perform(machine.upstreamTakenOutOfService(reason: reason))
        }
        let action = machine.deadlineReached(now: clock.now())
        if case .finished(.timeoutResponseHeader) = machine.state, let upstream {
            lease.record(upstream, failure: "no response head within \(route.config.timeouts.responseHeader.configText)")
        }
        perform(action)
        armTimer()
    }
}

extension ProxyStream: UpstreamResponseDelegate {
    func upstreamInformationalHead(_ head: HTTPResponseHead) {
        // Only while the final head is awaited; 100 Continue is StreamGate's own to send (it answers Expect).
        guard case .awaitingHead = machine.state else { return }
        let action = machine.interimResponseReceived()
        guard case .none = action else {
            if let upstream {
                lease.record(upstream, failure: "too many interim responses")
            }
            perform(action)
            return
        }
        guard head.status != .continue, let downstream else { return }
        downstream.sendInformationalHead(ResponseHeaderRewriter.downstreamHead(for: head))
        downstream.flushResponse()
    }

    func upstreamResponseHead(_ head: HTTPResponseHead) {
        if let upstream {
            lease.record(upstream, failure: nil)
        }
        let now = clock.now()
        let latency = machine.phase == .awaitingHead ? machine.responseHeadLatency(now: now) : nil
        let firstHead = machine.isAwaitingHead
        perform(machine.responseHeadReceived(head, now: now, allocator: allocator))
        if firstHead, machine.kind == .sse, let slot = connection?.lateDrainSlot(now: now) {
            drain(slot)
        }
        if let latency {
            connection?.responseHeadArrived(route: route.label, latency: latency)
        }
    }

    func upstreamResponseBody(_ buffer: ByteBuffer) {
        perform(machine.responseBodyReceived(buffer, now: clock.now(), allocator: allocator))
    }

    func upstreamResponseEnd(trailers: HTTPHeaders?) {
        responseTrailers = TrailerFields.forwardable(trailers)
        perform(machine.responseEndReceived())
    }

    func upstreamReadComplete() {
        downstream?.flushResponse()
    }

    func upstreamBecameWritable() {
        if !machine.isFinished {
            downstream?.resumeRequestBody()
        }
    }

    func upstreamFailed(_ error: any Error) {
        var awaitingHead = machine.isAwaitingHead
        if case .awaitingHead = machine.failover?.phase {
            awaitingHead = true
        }
        let action = machine.upstreamFailed(error, connectionWasReused: upstream?.isRetrySafe ?? false)
        // A fresh connection that fails before the head counts against the server; a pooled one the server closed
        // as it was leased is retried and does not.
        if awaitingHead, case .finish = action, let upstream {
            lease.record(upstream, failure: "failed before a response head: \(error)")
        }
        perform(action)
    }

    /// For the few buffers StreamGate makes itself (a restored BOM, the retry preamble); a value, no lookup.
    private var allocator: ByteBufferAllocator {
        ByteBufferAllocator()
    }
}
