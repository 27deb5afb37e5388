import Logging
import NIOCore

/// The shared feeds of one event loop, by key: a subscriber joins the feed of its key, or starts one (and its
/// upstream stream). One hub per loop, so a feed, its upstream and its subscribers never cross threads: with N
/// event loops a key has at most N upstream streams.
final class SharedFeedHub {
    private var feeds: [SharedFeedKey: SharedFeed] = [:]
    /// The loop's stream deadlines, for the feeds' upstream streams and the subscribers that go private.
    let timers: LoopTimers

    init(timers: LoopTimers) {
        self.timers = timers
    }

    var eventLoop: any EventLoop { timers.eventLoop }

    var feedCount: Int { feeds.count }

    /// Adds `subscriber` to the feed of its key, opening the feed's upstream stream when there is none yet.
    func join(_ subscriber: SharedSubscriber) {
        let origin = subscriber.origin
        if let feed = feeds[origin.key] {
            feed.add(subscriber)
            return
        }
        guard let shared = origin.route.config.sse.shared else {
            subscriber.goPrivate(reason: "the route no longer shares its event streams")
            return
        }
        // A client that resumes from an event this new feed cannot have goes to the origin on its own; the feed
        // opens with the next client that comes without one.
        if let asked = subscriber.lastEventIDAsked, shared.missed == .upstream {
            subscriber.goPrivate(reason: "Last-Event-ID \(asked) is not in a shared feed's ring")
            return
        }
        var logger = subscriber.logger
        logger[metadataKey: "shared"] = "\(origin.upstreamHead.uri)"
        let feed = SharedFeed(key: origin.key, route: origin.route, config: shared, hub: self, eventLoop: eventLoop, logger: logger)
        feeds[origin.key] = feed
        feed.add(subscriber)
        var head = origin.upstreamHead
        head.headers.remove(name: "last-event-id")
        let upstream = ProxyStream(
            route: Self.feedRoute(for: origin.route),
            upstreamHead: head,
            isWebSocket: false,
            lease: origin.lease,
            timers: timers,
            downstream: feed,
            connection: nil,
            streamID: 0,
            host: subscriber.host,
            logger: logger
        )
        feed.upstream = upstream
        upstream.start()
        upstream.receiveRequestEnd()
    }

    /// The feed ended or closed: the next subscriber of its key starts a new one.
    func remove(_ feed: SharedFeed) {
        if let current = feeds[feed.key], current === feed {
            feeds[feed.key] = nil
        }
    }

    /// The route a feed's upstream stream runs on: the subscribers' route without `max_lifetime`, which is each
    /// subscriber's own.
    private static func feedRoute(for route: Route) -> Route {
        guard route.maxLifetime > .zero else { return route }
        var config = route.config
        config.timeouts.maxLifetime = .zero
        return Route(index: route.index, config: config, upstream: route.upstream)
    }
}
