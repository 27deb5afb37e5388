import Logging
import NIOCore
import NIOHTTP1
import StreamGateConfig

/// One upstream event stream shared by the subscribers of one key on one event loop (`sse.shared`): the
/// `ProxyStream` that drives the upstream (this feed is its client side, `SharedFeed+Upstream`), the ring of the
/// events it sent, and the subscribers reading that ring, each at its own position. Every event is kept once and
/// written to each subscriber that has room for it; a subscriber that falls off the ring's end is ended. The
/// upstream closes `idle_close` after the last subscriber left. Lives on its loop, owned by its `SharedFeedHub`.
final class SharedFeed {
    enum State: Equatable {
        /// The upstream's head is awaited; subscribers wait with it.
        case opening
        /// Events flow.
        case live
        /// The upstream ended (or answered with something else than an event stream): no new subscriber joins.
        case ended
    }

    let key: SharedFeedKey
    /// The route the subscribers came by (the upstream stream runs on a copy without `max_lifetime`: a lifetime
    /// is each subscriber's own).
    let route: Route
    let config: SSESharedConfig
    let eventLoop: any EventLoop
    let logger: Logger
    /// Weak: at shutdown the event loop's hub may go before a feed whose upstream closes last.
    private weak var hub: SharedFeedHub?
    private(set) var state = State.opening
    /// The stream that drives the shared upstream; nil once it finished.
    var upstream: ProxyStream?
    /// The rewritten head every subscriber gets, once the upstream answered with an event stream.
    private(set) var head: HTTPResponseHead?
    private(set) var ring: SharedEventRing
    /// Cuts what the upstream stream writes (whole events, comments) into blocks at event boundaries.
    var scanner = EventStreamScanner()
    /// Each subscriber knows its index here (`feedIndex`), so leaving costs no search.
    private(set) var subscribers: [SharedSubscriber] = []
    /// Subscribers written to since the last flush.
    var unflushed: [SharedSubscriber] = []
    /// What a subscriber gets right after the head: `retry: <ms>` when configured, else one comment with
    /// `first_byte: immediate`.
    let preamble: ByteBuffer?
    private var idleClose: Scheduled<Void>?

    init(key: SharedFeedKey, route: Route, config: SSESharedConfig, hub: SharedFeedHub, eventLoop: any EventLoop, logger: Logger) {
        self.key = key
        self.route = route
        self.config = config
        self.hub = hub
        self.eventLoop = eventLoop
        self.logger = logger
        self.ring = SharedEventRing(maximumEvents: config.replayEvents, maximumBytes: config.replayBytes)
        var filter = EventStreamFilter(config: route.config.sse, heartbeat: route.heartbeatBytes)
        self.preamble = filter.preamble(allocator: ByteBufferAllocator())
    }

    var subscriberCount: Int { subscribers.count }

    /// The upstream server in use, `ip:port`.
    var upstreamAddress: String? {
        guard let upstream, let exchange = upstream.upstream else { return nil }
        return upstream.lease.address(of: exchange)
    }

    // MARK: Subscribers

    /// A subscriber joins: it starts from the event after its Last-Event-ID when the ring has it, else from now
    /// (after a comment saying what it missed, with `missed: join`); with `missed: upstream` a Last-Event-ID the
    /// ring lacks sends it to the origin privately instead. It gets the head now if the feed is live.
    func add(_ subscriber: SharedSubscriber) {
        if let asked = subscriber.lastEventIDAsked {
            if let next = ring.sequence(after: asked) {
                subscriber.cursor = next
            } else if config.missed == .upstream {
                subscriber.goPrivate(reason: "Last-Event-ID \(asked) is not in the shared feed's ring")
                return
            } else {
                subscriber.missedBefore = asked
                subscriber.cursor = ring.nextSequence
            }
        } else {
            subscriber.cursor = ring.nextSequence
        }
        idleClose?.cancel()
        idleClose = nil
        subscriber.feed = self
        subscriber.feedIndex = subscribers.count
        subscribers.append(subscriber)
        if let head, state == .live {
            subscriber.begin(head: head)
            flushSubscribers()
        }
    }

    /// A subscriber left (or was ended): once none is left, the upstream closes after `idle_close`.
    func remove(_ subscriber: SharedSubscriber) {
        let index = subscriber.feedIndex
        guard index < subscribers.count, subscribers[index] === subscriber else { return }
        let last = subscribers.removeLast()
        if index < subscribers.count {
            subscribers[index] = last
            last.feedIndex = index
        }
        subscriber.feed = nil
        guard subscribers.isEmpty, state != .ended else { return }
        let delay = TimeAmount(config.idleClose)
        guard delay > .zero else {
            close(reason: "its last subscriber left")
            return
        }
        idleClose = eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            idleClose = nil
            if subscribers.isEmpty {
                close(reason: "no subscriber for idle_close \(config.idleClose.configText)")
            }
        }
    }

    /// Ends the feed with no subscriber left: the upstream is closed and the key is free for a new feed.
    private func close(reason: String) {
        logger.debug("shared event stream closed: \(reason)")
        state = .ended
        hub?.remove(self)
        let upstream = self.upstream
        self.upstream = nil
        upstream?.downstreamClosed()
    }

    /// The feed cannot go on: it leaves the hub, and every subscriber ends (`clean`: at its event boundary, after
    /// the events it has not read yet; else cut).
    func end(clean: Bool) {
        guard state != .ended else { return }
        state = .ended
        idleClose?.cancel()
        idleClose = nil
        hub?.remove(self)
        for subscriber in subscribers {
            subscriber.feedEnded(clean: clean)
        }
        flushSubscribers()
    }

    // MARK: Events

    /// Keeps one whole event and writes it to every subscriber that was caught up; ends those the ring left
    /// behind.
    func publish(_ event: ByteBuffer, id: String?) {
        ring.append(event, id: id)
        let first = ring.firstSequence
        for subscriber in subscribers {
            if subscriber.cursor < first {
                subscriber.fellOffTheRing()
            } else if subscriber.cursor == ring.nextSequence - 1 {
                subscriber.deliver()
            }
        }
    }

    /// A comment or a block that dispatches no event (a heartbeat, a `retry:` field): to every subscriber that is
    /// caught up and has room; not kept.
    func broadcast(_ block: ByteBuffer) {
        let isHeartbeat = block == route.heartbeatBytes
        for subscriber in subscribers where subscriber.cursor == ring.nextSequence {
            subscriber.send(block, isHeartbeat: isHeartbeat)
        }
    }

    /// Pushes what was written to subscribers since the last flush.
    func flushSubscribers() {
        guard !unflushed.isEmpty else { return }
        let written = unflushed
        unflushed.removeAll(keepingCapacity: true)
        for subscriber in written {
            subscriber.flush()
        }
    }

    /// The upstream answered with an event stream: the subscribers waiting get the head and what the ring has.
    func becameLive(head: HTTPResponseHead) {
        guard state == .opening else { return }
        self.head = head
        state = .live
        for subscriber in subscribers {
            subscriber.begin(head: head)
        }
        flushSubscribers()
    }

    /// The upstream answered with something else: every waiting subscriber goes to the origin on its own and gets
    /// its answer there.
    func failedToOpen(status: UInt) {
        guard state == .opening else { return }
        state = .ended
        hub?.remove(self)
        let waiting = subscribers
        subscribers.removeAll()
        logger.info("shared event stream not opened: upstream answered \(status); its \(waiting.count) subscribers go privately")
        for subscriber in waiting {
            subscriber.feed = nil
            subscriber.goPrivate(reason: "the shared upstream answered \(status)")
        }
        closeUpstreamLater()
    }

    /// Closes the upstream stream once the call it is making into this feed has returned.
    func closeUpstreamLater() {
        eventLoop.assumeIsolated().execute { [self] in
            let upstream = self.upstream
            self.upstream = nil
            upstream?.downstreamClosed()
        }
    }
}
