import NIOCore
import NIOHTTP1

/// The `/ticker?rate=R` feeds of one origin, one per rate, as a broadcast source would serve them: a feed publishes
/// event n (`id: n`, `data: <monotonic ns at publication>`) every 1/R s on a fixed schedule and writes that one event,
/// the same bytes, to every stream of its rate open on the origin at that moment. So every subscriber of one path
/// sees one feed, whether the proxy gives it a stream of its own or shares one. The timestamp is taken once per
/// event, before the first write, so a client's latency includes the origin writing the event to the streams
/// before its own (see `stats()` for how long that takes). A feed ticks while it has streams (ids go on where they
/// stopped). Lives on the origin's one event loop: call everything there.
final class TickerFeeds: Sendable {
    /// What the feeds have done, summed over them.
    struct Stats: Sendable {
        /// Streams open on a feed right now (the proxy's upstream streams for `/ticker`).
        var streams = 0
        /// The latest event id published, the largest over the feeds.
        var lastID: UInt64 = 0
        /// Events published, and the time from each one's timestamp to its last write, summed.
        var broadcasts: UInt64 = 0
        var broadcastNanoseconds: UInt64 = 0
    }

    private struct Feed: Sendable {
        var intervalNanoseconds: UInt64
        var streams: [ObjectIdentifier: any Channel] = [:]
        var lastID: UInt64 = 0
        /// When the next event is due (monotonic ns).
        var nextPublication: UInt64 = 0
        var tick: Scheduled<Void>?
        var broadcasts: UInt64 = 0
        var broadcastNanoseconds: UInt64 = 0
    }

    private struct State: Sendable {
        /// By the rate's bit pattern.
        var feeds: [UInt64: Feed] = [:]
        var stopped = false
    }

    private let eventLoop: any EventLoop
    private let state: NIOLoopBoundBox<State>
    private let allocator = ByteBufferAllocator()

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), as: State.self, eventLoop: eventLoop)
    }

    /// Adds the stream of `channel` (its response head written) to the feed of `eventsPerSecond`: it gets every
    /// event published from now on until the channel closes.
    func subscribe(_ channel: any Channel, eventsPerSecond: Double) {
        guard !state.value.stopped else { return }
        let key = eventsPerSecond.bitPattern
        let id = ObjectIdentifier(channel)
        if state.value.feeds[key] == nil {
            let interval = UInt64(max(1, (1_000_000_000 / eventsPerSecond).rounded()))
            state.value.feeds[key] = Feed(intervalNanoseconds: interval)
        }
        state.value.feeds[key]?.streams[id] = channel
        if state.value.feeds[key]?.tick == nil {
            let interval = state.value.feeds[key]?.intervalNanoseconds ?? 0
            state.value.feeds[key]?.nextPublication = MonotonicClock.nanoseconds() + interval
            schedule(key)
        }
        channel.closeFuture.whenComplete { _ in
            self.unsubscribe(id, key: key)
        }
    }

    /// Every feed's numbers as of now.
    func stats() -> Stats {
        var stats = Stats()
        for feed in state.value.feeds.values {
            stats.streams += feed.streams.count
            stats.lastID = max(stats.lastID, feed.lastID)
            stats.broadcasts += feed.broadcasts
            stats.broadcastNanoseconds += feed.broadcastNanoseconds
        }
        return stats
    }

    /// Stops every feed for good: no more events, and no feed starts again. The streams stay open.
    func stop() {
        state.value.stopped = true
        for key in Array(state.value.feeds.keys) {
            state.value.feeds[key]?.tick?.cancel()
            state.value.feeds[key]?.tick = nil
        }
    }

    private func unsubscribe(_ id: ObjectIdentifier, key: UInt64) {
        guard state.value.feeds[key]?.streams.removeValue(forKey: id) != nil else { return }
        if state.value.feeds[key]?.streams.isEmpty == true {
            state.value.feeds[key]?.tick?.cancel()
            state.value.feeds[key]?.tick = nil
        }
    }

    /// Schedules the feed's next publication, unless it has no streams left or the feeds were stopped.
    private func schedule(_ key: UInt64) {
        guard !state.value.stopped, let feed = state.value.feeds[key], !feed.streams.isEmpty else {
            state.value.feeds[key]?.tick = nil
            return
        }
        let tick = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(feed.nextPublication)) {
            self.publish(key)
        }
        state.value.feeds[key]?.tick = tick
    }

    /// Publishes the feed's next event to every stream it has, then schedules the one after: on the schedule, or
    /// at once when this publication ran past it (the rate holds as long as the origin keeps up).
    private func publish(_ key: UInt64) {
        guard !state.value.stopped, let feed = state.value.feeds[key], !feed.streams.isEmpty else {
            state.value.feeds[key]?.tick = nil
            return
        }
        let published = MonotonicClock.nanoseconds()
        let id = feed.lastID + 1
        state.value.feeds[key]?.lastID = id
        state.value.feeds[key]?.nextPublication = max(feed.nextPublication + feed.intervalNanoseconds, published)
        let event = allocator.buffer(string: "id: \(id)\ndata: \(published)\n\n")
        let part = HTTPServerResponsePart.body(.byteBuffer(event))
        // `feed` is a copy: a stream that closes meanwhile leaves the box's feed, not this loop.
        for channel in feed.streams.values {
            channel.writeAndFlush(part, promise: nil)
        }
        let spent = MonotonicClock.nanoseconds() - published
        state.value.feeds[key]?.broadcasts += 1
        state.value.feeds[key]?.broadcastNanoseconds += spent
        schedule(key)
    }
}
