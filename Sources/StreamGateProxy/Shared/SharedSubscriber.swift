import Logging
import NIOCore
import NIOHTTP1

/// One client's stream on a shared feed (`sse.shared`): its position in the feed's ring, what it got, and its
/// client side. It writes the ring's events from its position while the client has room and goes on when the
/// client takes more, so a slow client holds back nobody but itself; it is ended when the ring drops an event it
/// has not read. A client the feed cannot serve (its Last-Event-ID is not in the ring, the upstream did not answer
/// with an event stream) gets a `ProxyStream` of its own, which this stream then hands everything to. On the
/// client connection's event loop, which is its feed's.
final class SharedSubscriber {
    enum Phase: Equatable {
        /// Joined; the feed's head is awaited.
        case waiting
        case streaming
        /// Served by a private `ProxyStream` instead.
        case handedOver
        case finished
    }

    /// How to open the private stream a subscriber may need, and what a feed needs to open its upstream.
    struct Origin {
        let route: Route
        /// The request as it goes upstream (with the client's Last-Event-ID, if any).
        let upstreamHead: HTTPRequestHead
        let key: SharedFeedKey
        let lease: UpstreamLease
        let clock: StreamClock
        let slowConsumerTimeout: TimeAmount
    }

    let origin: Origin
    let eventLoop: any EventLoop
    let connection: LiveConnection?
    let streamID: UInt32
    let host: String?
    private let hub: SharedFeedHub
    private let connectionLogger: Logger
    private(set) var downstream: (any DownstreamResponder)?
    private(set) var phase = Phase.waiting
    /// The client's Last-Event-ID.
    let lastEventIDAsked: String?

    /// The feed it reads, while it does.
    var feed: SharedFeed?
    /// Its index in the feed's list of subscribers.
    var feedIndex = 0
    /// The sequence number of the next event it gets from the feed's ring.
    var cursor = 0
    /// Set with `missed: join` when its Last-Event-ID was not in the ring: it is told so after the head.
    var missedBefore: String?
    /// The feed ended: the subscriber ends once it has written what it had not read yet.
    private var endsWhenCaughtUp = false
    private var privateStream: ProxyStream?
    private var requestEnded = false
    /// Bytes were written since the last flush; it is on its feed's list to flush.
    private var awaitingFlush = false
    private var endTimer: Scheduled<Void>?

    let startedAt: NIODeadline
    private(set) var lastByte: NIODeadline
    private(set) var events = 0
    private(set) var heartbeats = 0
    private(set) var bytesOut = 0
    /// The id of the last event it wrote (as the client holds it).
    private(set) var lastEventID: String?

    init(
        origin: Origin,
        hub: SharedFeedHub,
        eventLoop: any EventLoop,
        downstream: any DownstreamResponder,
        connection: LiveConnection?,
        streamID: UInt32,
        host: String?,
        logger: Logger
    ) {
        self.origin = origin
        self.hub = hub
        self.eventLoop = eventLoop
        self.downstream = downstream
        self.connection = connection
        self.streamID = streamID
        self.host = host
        self.connectionLogger = logger
        self.lastEventIDAsked = origin.upstreamHead.headers.first(name: "last-event-id")
        self.startedAt = origin.clock.now()
        self.lastByte = startedAt
    }

    var route: Route { origin.route }

    var logger: Logger {
        var logger = connectionLogger
        logger[metadataKey: "stream"] = "\(streamID)"
        logger[metadataKey: "request"] = "\(origin.upstreamHead.method) \(origin.upstreamHead.uri)"
        logger[metadataKey: "route"] = "\(route.logName)"
        return logger
    }

    // MARK: From the feed

    /// The feed is live: the head, the first bytes every event stream gets, a word on what it missed, then the
    /// events from its position.
    func begin(head: HTTPResponseHead) {
        guard phase == .waiting, let downstream, let feed else { return }
        phase = .streaming
        downstream.sendResponseHead(head)
        if let preamble = feed.preamble {
            write(preamble)
        }
        if let missed = missedBefore {
            write(ByteBufferAllocator().buffer(string: ": missed events before \(missed)\n\n"))
        }
        deliver()
    }

    /// Writes the ring's events from its position while the client has room; ends it when the ring no longer
    /// has its next event, or when the feed ended and it has read everything.
    func deliver() {
        guard phase == .streaming, let feed, let downstream else { return }
        let ring = feed.ring
        while cursor < ring.nextSequence {
            guard cursor >= ring.firstSequence else {
                fellOffTheRing()
                return
            }
            guard downstream.canTakeResponseBody, let entry = ring.entry(cursor) else { break }
            cursor += 1
            events += 1
            lastEventID = entry.id
            write(entry.bytes)
        }
        if endsWhenCaughtUp && cursor == ring.nextSequence {
            end(.ok, clean: true, reason: "the shared upstream stream ended")
        }
    }

    /// A comment or field for the caught-up subscribers (a heartbeat when `isHeartbeat`).
    func send(_ block: ByteBuffer, isHeartbeat: Bool) {
        guard phase == .streaming, downstream?.canTakeResponseBody == true else { return }
        if isHeartbeat {
            heartbeats += 1
        }
        write(block)
    }

    /// The ring dropped the next event this client has not read: it ends cleanly (it stands between events) and
    /// resumes with its Last-Event-ID, from the ring if it still reaches back that far.
    func fellOffTheRing() {
        end(.slowConsumer, clean: true, reason: "fell behind the shared feed's ring (slow consumer)")
    }

    /// The feed ended: a clean end after the events not read yet, or at once.
    func feedEnded(clean: Bool) {
        guard phase == .streaming || phase == .waiting else { return }
        guard clean, phase == .streaming else {
            end(.upstreamError, clean: clean, reason: "the shared upstream stream ended")
            return
        }
        endsWhenCaughtUp = true
        deliver()
    }

    func flush() {
        awaitingFlush = false
        downstream?.flushResponse()
    }

    private func write(_ bytes: ByteBuffer) {
        guard let downstream else { return }
        downstream.sendResponseBody(bytes)
        bytesOut += bytes.readableBytes
        lastByte = origin.clock.now()
        if !awaitingFlush, let feed {
            awaitingFlush = true
            feed.unflushed.append(self)
        }
    }

    // MARK: Ending

    /// Ends this stream: it leaves its feed and the registry, then its client side ends (`clean`: the end of the
    /// response at an event boundary; else cut).
    func end(_ outcome: StreamOutcome, clean: Bool, reason: String) {
        guard phase == .waiting || phase == .streaming else { return }
        let wasStreaming = phase == .streaming
        phase = .finished
        endTimer?.cancel()
        endTimer = nil
        feed?.remove(self)
        connection?.streamEnded(streamID, stream: self, outcome: outcome)
        guard let downstream else { return }
        self.downstream = nil
        downstream.streamFinished()
        guard outcome != .clientGone else { return }
        logger.info("shared event stream ended: \(reason)")
        if !wasStreaming {
            let status: HTTPResponseStatus = outcome == .upstreamError ? .badGateway : .serviceUnavailable
            LocalResponse.send(status: status, reason: reason, to: downstream, allocator: ByteBufferAllocator())
        } else if clean {
            downstream.sendResponseEnd()
            downstream.flushResponse()
        } else {
            downstream.abortResponse()
        }
    }

    /// Ends the stream at `deadline` (max_lifetime, a drain's slot).
    func end(at deadline: NIODeadline, _ outcome: StreamOutcome, reason: String) {
        endTimer?.cancel()
        endTimer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            endTimer = nil
            end(outcome, clean: true, reason: reason)
        }
    }

    // MARK: Served privately

    /// This client gets an upstream stream of its own (with its Last-Event-ID), exactly as without `shared`.
    func goPrivate(reason: String) {
        guard phase == .waiting, let downstream else { return }
        logger.debug("not shared: \(reason)")
        phase = .handedOver
        feed = nil
        endTimer?.cancel()
        endTimer = nil
        let stream = ProxyStream(
            route: route,
            upstreamHead: origin.upstreamHead,
            isWebSocket: false,
            lease: origin.lease,
            timers: hub.timers,
            downstream: downstream,
            connection: connection,
            streamID: streamID,
            host: host,
            slowConsumerTimeout: origin.slowConsumerTimeout,
            logger: connectionLogger
        )
        privateStream = stream
        self.downstream = nil
        stream.start()
        if requestEnded {
            stream.receiveRequestEnd()
        }
    }
}

extension SharedSubscriber: ClientStream {
    func start() {
        connection?.streamStarted(streamID, self)
        if route.maxLifetime > .zero {
            end(at: startedAt + route.maxLifetime, .timeoutLifetime, reason: "max_lifetime \(route.config.timeouts.maxLifetime.configText) reached")
        }
        hub.join(self)
    }

    func receiveRequestBody(_ buffer: ByteBuffer) {
        privateStream?.receiveRequestBody(buffer)
    }

    func receiveRequestEnd() {
        requestEnded = true
        privateStream?.receiveRequestEnd()
    }

    func flushRequest() {
        privateStream?.flushRequest()
    }

    func downstreamBecameWritable() {
        if let privateStream {
            privateStream.downstreamBecameWritable()
            return
        }
        deliver()
        feed?.flushSubscribers()
    }

    func downstreamClosed() {
        if let privateStream {
            privateStream.downstreamClosed()
            return
        }
        end(.clientGone, clean: false, reason: "client went away")
    }

    func serverGoingAway(outcome: StreamOutcome) {
        if let privateStream {
            privateStream.serverGoingAway(outcome: outcome)
            return
        }
        let reason = outcome == .drained ? "StreamGate is shutting down" : "closed through the admin endpoint"
        end(outcome, clean: true, reason: reason)
    }
}
