/// (9) Shared subscriptions: many clients on one event stream, the live-scores case. The origin has one feed
/// (`/ticker`, `TickerFeeds`: every event written to every open stream at once, with its publication time), and
/// every stream asks for the same path. StreamGate with `sse: { shared: {} }` on its route serves all the
/// subscribers from one upstream stream per event loop; the same streams as private ones (each its own upstream
/// request) through StreamGate, nginx and HAProxy show what sharing saves; 1,000 or so private streams through
/// StreamGate are the latency reference (the shared p99 should stay within 2x of theirs). Each configuration is a
/// fresh proxy and origin (`SharedFeedRun`), and a row of its own in the table (`RowVariant`): StreamGate gets three
/// (shared, private, private reference), nginx and HAProxy one (private). The private runs have as many streams as
/// the shared one when their upstream sockets fit the machine's open-file limit, else the most that fit.
struct SharedSubscriptionScenario: Scenario {
    let id = "shared"
    let title = "Shared subscriptions"
    let headlineMetric = "cpu_s_per_million"

    static let sharedRow = RowVariant(key: "shared", label: "shared")
    static let privateRow = RowVariant(key: "private", label: "private")
    static let referenceRow = RowVariant(key: "reference", label: "private reference")

    let rowVariants = [
        SharedSubscriptionScenario.sharedRow, SharedSubscriptionScenario.privateRow,
        SharedSubscriptionScenario.referenceRow,
    ]

    /// Upstream connections a private run may need beyond one per stream (idle ones in a pool, a few being
    /// replaced), for the open-file budget.
    static let upstreamSlack = 64
    /// How `ScaleResourceBudget.shortfall` starts its reasons.
    private static let notTried = "not tried: "

    func workload(_ sizes: ScenarioSizes) -> String {
        let per = sizes.sharedStreamsPerConnection
        let shared = sizes.sharedConnections * per
        let privateStreams = Self.privateStreamCount(sizes).streams
        let reference = sizes.sharedReferenceConnections * per
        let rate = sizes.sharedEventsPerSecond
        let rateText = rate == rate.rounded() ? String(Int(rate)) : String(rate)
        var parts = [
            "one feed, /ticker at \(rateText) events/s (event n: id n and its publication time, written to every open",
            "stream at once), \(per) streams per HTTP/2 connection, every stream the same path;",
            "shared: \(shared) subscribers through StreamGate with sse: { shared: {} };",
            "private (each stream its own upstream request): \(privateStreams) streams through StreamGate, nginx and",
            "HAProxy;",
        ]
        if privateStreams < shared {
            parts.append(
                "fewer than shared: the most whose upstream sockets fit this machine's open-file limit, so compare the"
                    + " per-stream and per-event columns;"
            )
        }
        parts += [
            "private reference: \(reference) private streams through StreamGate;",
            "a fresh proxy and origin per row, \(sizes.sharedSeconds) s window once every stream is open, after",
            "\(Int(SharedFeedRun.warmUp / .seconds(1))) s; RSS per stream from the proxy without clients to the end of",
            "the window; upstream connections open at the origin at the end; events missing, duplicated and streams",
            "broken over the whole run",
        ]
        return parts.joined(separator: " ")
    }

    let metrics = [
        MetricSpec(key: "streams", label: "streams", decimals: 0),
        MetricSpec(key: "upstream_connections", label: "upstream connections", decimals: 0),
        MetricSpec(key: "rss_kib_per_stream", label: "RSS KiB / stream", decimals: 2, ratioToNginx: true),
        MetricSpec(key: "p50_ms", label: "p50 ms", decimals: 2, ratioToNginx: true),
        MetricSpec(key: "p99_ms", label: "p99 ms", decimals: 2, ratioToNginx: true),
        MetricSpec(key: "p99_vs_reference", label: "p99 ÷ private reference p99", decimals: 2),
        MetricSpec(key: "cpu_s_per_million", label: "proxy CPU s / M events", decimals: 2, ratioToNginx: true),
        MetricSpec(key: "events", label: "events delivered", decimals: 0),
        MetricSpec(key: "delivered_pct", label: "delivered %", decimals: 1),
        MetricSpec(key: "missing", label: "events missing", decimals: 0),
        MetricSpec(key: "duplicated", label: "duplicated", decimals: 0),
        MetricSpec(key: "streams_broken", label: "streams broken", decimals: 0),
    ]

    func exclusionReason(for peer: PeerName) -> String? {
        peer == .direct ? "no proxy process to measure, and nothing to share the feed" : nil
    }

    func measure(peer launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        let sizes = environment.sizes
        let logger = environment.logger
        let per = sizes.sharedStreamsPerConnection
        let (privateStreams, shortfall) = Self.privateStreamCount(sizes)
        var measurement = Measurement()
        if let shortfall {
            measurement.notes.append(shortfall)
        }
        guard let streamgate = launcher as? StreamGatePeer else {
            guard privateStreams > 0 else {
                throw ScenarioFailure(description: shortfall ?? "no private stream fits this machine")
            }
            logger.info("shared: \(privateStreams) private streams")
            let privateRun = try await Self.run(streams: privateStreams, sizes).run(launcher, environment: environment)
            measurement.add(privateRun, row: Self.privateRow, main: true)
            return measurement
        }

        let sharedStreams = sizes.sharedConnections * per
        logger.info("shared: \(sharedStreams) shared subscribers")
        let shared = try await Self.run(streams: sharedStreams, sizes)
            .run(streamgate.withSharedSubscriptions(), environment: environment)
        measurement.add(shared, row: Self.sharedRow, main: true)

        let referenceStreams = sizes.sharedReferenceConnections * per
        logger.info("shared: \(referenceStreams) private streams (reference)")
        do {
            let reference = try await Self.run(streams: referenceStreams, sizes)
                .run(streamgate, environment: environment)
            measurement.add(reference, row: Self.referenceRow, main: false)
            if let sharedP99 = shared.values["p99_ms"], let referenceP99 = reference.values["p99_ms"],
                referenceP99 > 0
            {
                measurement.values["p99_vs_reference"] = sharedP99 / referenceP99
                measurement.values[Self.sharedRow.key + ".p99_vs_reference"] = sharedP99 / referenceP99
            }
        } catch {
            measurement.notes.append("\(Self.referenceRow.label): failed: \(error)")
        }

        if privateStreams > 0 {
            logger.info("shared: \(privateStreams) private streams")
            do {
                let privateRun = try await Self.run(streams: privateStreams, sizes)
                    .run(streamgate, environment: environment)
                measurement.add(privateRun, row: Self.privateRow, main: false)
            } catch {
                measurement.notes.append("\(Self.privateRow.label): failed: \(error)")
            }
        }
        return measurement
    }

    /// A run of `streams` streams with this run's rate, window and streams per connection.
    private static func run(streams: Int, _ sizes: ScenarioSizes) -> SharedFeedRun {
        SharedFeedRun(
            streams: streams,
            streamsPerConnection: sizes.sharedStreamsPerConnection,
            eventsPerSecond: sizes.sharedEventsPerSecond,
            seconds: sizes.sharedSeconds
        )
    }

    /// How many private streams the private runs open: as many as the shared run has, or, when their upstream
    /// sockets (one per stream) and client connections do not fit this machine's open-file limit or local ports
    /// (`ScaleResourceBudget`: the proxy and the bench each hold one end of every upstream socket), the most that
    /// fit, in whole connections; and then why not all of them.
    static func privateStreamCount(_ sizes: ScenarioSizes) -> (streams: Int, shortfall: String?) {
        let per = sizes.sharedStreamsPerConnection
        let budget = ScaleResourceBudget.current()
        var shortfall: String?
        var connections = sizes.sharedConnections
        while connections > 0 {
            let streams = connections * per
            guard let reason = budget.shortfall(connections: connections, upstreamConnections: streams + upstreamSlack)
            else {
                return (streams, shortfall)
            }
            if shortfall == nil {
                let why = reason.hasPrefix(Self.notTried) ? String(reason.dropFirst(Self.notTried.count)) : reason
                shortfall = "\(streams) private streams do not fit: \(why); the private runs have fewer"
            }
            connections -= 1
        }
        return (0, shortfall)
    }
}

extension Measurement {
    /// Adds a run's numbers as the row `row` ("<row key>.<metric key>"), and also as this measurement's own
    /// figures when `main`; and its notes, each prefixed with the row's label.
    fileprivate mutating func add(_ run: Measurement, row: RowVariant, main: Bool) {
        for (key, value) in run.values {
            values[row.key + "." + key] = value
            if main {
                values[key] = value
            }
        }
        notes += run.notes.map { "\(row.label): \($0)" }
    }
}
