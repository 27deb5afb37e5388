import Foundation

/// One run of the shared scenario: `streams` event streams on the origin's one feed (`/ticker?rate=R`, the same
/// path for all, so a proxy that shares subscriptions may serve them from one upstream stream), `streamsPerConnection`
/// per HTTP/2 connection, through a fresh proxy in front of a fresh origin (`ProxyRun`). The proxy's RSS is sampled
/// after 1 s without clients; once every stream has its answer, the streams run `warmUp`, then the client watches
/// `seconds`. The run's numbers, under the keys of `SharedSubscriptionScenario.metrics`: latency p50 and p99 in the
/// window, proxy CPU per million events delivered in it, RSS growth per open stream (from the sample without
/// clients to the end of the window), the origin's open connections at the end, events delivered and their share of
/// those published, and from every stream's event ids (over the whole run) the events missing between a stream's
/// first and highest id, the duplicates, and the streams broken (failed, ended, or open without a single event).
struct SharedFeedRun: Sendable {
    var streams: Int
    var streamsPerConnection: Int
    var eventsPerSecond: Double
    var seconds: Int

    /// From every stream having its answer to the window: every stream's first event has long arrived.
    static let warmUp: Duration = .seconds(1)
    /// From the proxy's start to its RSS sample without clients.
    static let settle: Duration = .seconds(1)

    var connections: Int { (streams + streamsPerConnection - 1) / streamsPerConnection }

    /// The feed's path: the same for every stream of every run at this rate.
    var path: String {
        let rate = eventsPerSecond == eventsPerSecond.rounded() ? String(Int(eventsPerSecond)) : String(eventsPerSecond)
        return "/ticker?rate=\(rate)"
    }

    func run(_ launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        let shape = LoadShape(
            connections: connections,
            streamsPerConnection: streamsPerConnection,
            path: path,
            recordLatency: true,
            trackEventIDs: true
        )
        return try await ProxyRun.with(launcher, environment: environment) { peer, origin in
            try await Task.sleep(for: Self.settle)
            guard let base = peer.sample() else { throw ScenarioFailure(description: "proxy process gone") }
            return try await ProxyRun.withLoad(shape, peer: peer, environment: environment) { client in
                let opened = await client.waitUntilSettled(timeout: .seconds(30 + streams / 500))
                try ProxyRun.requireOpenStreams(opened)
                try await Task.sleep(for: Self.warmUp)
                await client.resetLatency()
                let feedBefore = try await origin.tickerStats()
                let window = try await MeasurementWindow.take(client: client, peer: peer, duration: .seconds(seconds))
                let feedAfter = try await origin.tickerStats()
                let upstreamConnections = try await origin.openConnections()
                let tracked = await client.trackedStreams()
                var measurement = Self.measurement(
                    window: window,
                    opened: opened.streamsOpen,
                    base: base,
                    tracked: tracked,
                    eventsPerSecond: eventsPerSecond
                )
                measurement.values["upstream_connections"] = Double(upstreamConnections)
                measurement.values["upstream_streams"] = Double(feedAfter.streams)
                measurement.notes = ProxyRun.notes(for: window.after, peer: peer)
                measurement.notes.append(
                    Self.originNote(before: feedBefore, after: feedAfter, connections: upstreamConnections)
                )
                return measurement
            }
        }
    }

    /// The client's and the proxy's numbers of the window, and the event-id tally of every stream.
    private static func measurement(
        window: MeasurementWindow,
        opened: Int,
        base: ProcessSample,
        tracked: [TrackedStream],
        eventsPerSecond: Double
    ) -> Measurement {
        var measurement = Measurement()
        measurement.values["streams"] = Double(opened)
        measurement.recordPercentiles(of: window.after.latency)
        measurement.values["cpu_s_per_million"] = window.proxyCPUSecondsPerMillionEvents
        if let end = window.proxyAfter, opened > 0 {
            measurement.values["rss_kib_per_stream"] = Double(end.rssKiB - base.rssKiB) / Double(opened)
        }
        measurement.values["events"] = window.events
        let expected = Double(opened) * eventsPerSecond * window.seconds
        measurement.values["delivered_pct"] = expected > 0 ? 100 * window.events / expected : nil
        var missing = 0
        var duplicated = 0
        var silent = 0
        for stream in tracked {
            missing += stream.log.gaps
            duplicated += stream.log.duplicates
            if stream.open && stream.log.lastEventAt == 0 {
                silent += 1
            }
        }
        measurement.values["missing"] = Double(missing)
        measurement.values["duplicated"] = Double(duplicated)
        measurement.values["streams_broken"] = Double(window.after.streamsFailed + window.after.streamsEnded + silent)
        measurement.values["streams_silent"] = Double(silent)
        return measurement
    }

    /// What the origin saw: its `/ticker` streams and connections at the end, and how long writing one event to
    /// every stream took on average in the window (part of every event's latency, see `TickerFeeds`).
    private static func originNote(before: TickerFeeds.Stats, after: TickerFeeds.Stats, connections: Int) -> String {
        let broadcasts = after.broadcasts - before.broadcasts
        var note = "origin: \(after.streams) /ticker streams on \(connections) connections at the end of the window"
        if broadcasts > 0 {
            let nanoseconds = Double(after.broadcastNanoseconds - before.broadcastNanoseconds) / Double(broadcasts)
            note += "; \(broadcasts) events published in the window, each written to every stream in "
                + String(format: "%.2f", nanoseconds / 1e6) + " ms on average"
        }
        return note
    }
}
