/// (8) SSE upstream failover: event streams through StreamGate with `sse.resume` on its route, over one upstream of
/// two origins (`FeedOrigin`) that serve the same feed (`FeedSchedule`: numbered events on a shared clock, so either
/// can replay after a `Last-Event-ID`). `balance: least_streams` puts about half the streams on each. Once every
/// stream runs, the first origin dies as a crashing process would (`FeedOrigin.kill()`: listener closed, every
/// connection reset); StreamGate should carry its streams over to the other origin. From each client stream's event
/// ids (`EventIDLog`), the scenario counts the events lost and duplicated, the streams broken, and the longest
/// silence a client saw (`FailoverTally`). StreamGate only: nginx and HAProxy cannot resume an event stream on
/// another server (their clients would see every stream of the killed origin end, to reconnect by themselves).
struct FailoverScenario: Scenario {
    let id = "failover"
    let title = "SSE upstream failover"
    let headlineMetric = "lost"

    /// The data tag of the origin that is killed (the upstream's first server), and of the one that stays.
    static let killedTag = 1
    static let survivorTag = 2
    static let resume = StreamGatePeer.SSEResume(attempts: 5, backoff: .milliseconds(200))
    static let heartbeatInterval: Duration = .seconds(1)
    /// Events published this long before the streams are read must have arrived; later ones may be on their way.
    static let settleNanoseconds: UInt64 = 1_000_000_000

    func workload(_ sizes: ScenarioSizes) -> String {
        let streams = sizes.failoverConnections * sizes.failoverStreamsPerConnection
        let rate = Self.number(sizes.failoverEventsPerSecond)
        let backoff = Int(Self.resume.backoff / .milliseconds(1))
        let heartbeat = Self.number(Self.heartbeatInterval / .seconds(1))
        let connections = sizes.failoverConnections
        let parts = [
            "\(streams) SSE streams (\(connections) connections x \(sizes.failoverStreamsPerConnection)),",
            "\(rate) events/s each with numeric ids, from one upstream of two origins serving the same feed",
            "(least_streams: about half on each); after \(sizes.failoverWarmUpSeconds) s the first origin is killed",
            "(listener closed, connections reset), then \(sizes.failoverAfterKillSeconds) s watched;",
            "route sse: resume, \(Self.resume.attempts) attempts, \(backoff) ms backoff,",
            "heartbeats every \(heartbeat) s",
        ]
        return parts.joined(separator: " ")
    }

    let metrics = [
        MetricSpec(key: "lost", label: "events lost", decimals: 0),
        MetricSpec(key: "duplicated", label: "duplicated", decimals: 0),
        MetricSpec(key: "streams_broken", label: "streams broken", decimals: 0),
        MetricSpec(key: "max_gap_ms", label: "longest gap ms", decimals: 0),
        MetricSpec(key: "median_max_gap_ms", label: "median longest gap ms (moved streams)", decimals: 0),
        MetricSpec(key: "streams_moved", label: "streams on killed origin", decimals: 0),
        MetricSpec(key: "streams_resumed", label: "resumed on the other", decimals: 0),
        MetricSpec(key: "streams_open", label: "open at the end", decimals: 0),
    ]

    func exclusionReason(for peer: PeerName) -> String? {
        switch peer {
        case .streamgate:
            return nil
        case .nginx, .haproxy:
            return "cannot resume an event stream on another upstream server"
        case .direct:
            return "no proxy: a stream ends with its origin"
        }
    }

    func measure(peer launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        guard let streamgate = launcher as? StreamGatePeer else {
            throw ScenarioFailure(description: "the failover scenario measures StreamGate's resume only")
        }
        let sizes = environment.sizes
        let schedule = FeedSchedule(
            start: MonotonicClock.nanoseconds(),
            eventsPerSecond: sizes.failoverEventsPerSecond
        )
        let group = environment.originGroup
        let killed = try await FeedOrigin.start(group: group, schedule: schedule, tag: Self.killedTag)
        let survivor: FeedOrigin
        do {
            survivor = try await FeedOrigin.start(group: group, schedule: schedule, tag: Self.survivorTag)
        } catch {
            await killed.stop()
            throw error
        }
        let peer: RunningPeer
        do {
            peer = try await streamgate.withSSEHeartbeats(every: Self.heartbeatInterval)
                .withFailover(to: survivor.port, resume: Self.resume)
                .start(originPort: killed.port, workspace: environment.workspace, group: environment.clientGroup)
        } catch {
            await killed.stop()
            await survivor.stop()
            throw error
        }
        let shape = Self.load(sizes)
        let result: Result<Measurement, any Error>
        do {
            let measurement = try await ProxyRun.withLoad(shape, peer: peer, environment: environment) { client in
                try await observe(
                    client: client,
                    peer: peer,
                    killed: killed,
                    survivor: survivor,
                    schedule: schedule,
                    sizes: sizes
                )
            }
            result = .success(measurement)
        } catch {
            result = .failure(error)
        }
        await peer.stop()
        await killed.stop()
        await survivor.stop()
        return try result.get()
    }

    /// The streams: every one logs its event ids.
    static func load(_ sizes: ScenarioSizes) -> LoadShape {
        LoadShape(
            connections: sizes.failoverConnections,
            streamsPerConnection: sizes.failoverStreamsPerConnection,
            path: FeedRequestHandler.path,
            recordLatency: false,
            trackEventIDs: true
        )
    }

    /// Waits for the streams, lets them run, kills the first origin, watches, and tallies what the clients saw.
    private func observe(
        client: LoadClient,
        peer: RunningPeer,
        killed: FeedOrigin,
        survivor: FeedOrigin,
        schedule: FeedSchedule,
        sizes: ScenarioSizes
    ) async throws -> Measurement {
        let opened = await client.waitUntilSettled(timeout: .seconds(30))
        try ProxyRun.requireOpenStreams(opened)
        try await Task.sleep(for: .seconds(sizes.failoverWarmUpSeconds))
        let heldByKilled = try await killed.openConnections()
        await killed.kill()
        try await Task.sleep(for: .seconds(sizes.failoverAfterKillSeconds))
        let readAt = MonotonicClock.nanoseconds()
        let streams = await client.trackedStreams()
        let stats = await client.stats()
        let heldBySurvivor = try? await survivor.openConnections()
        let settled = readAt > Self.settleNanoseconds ? readAt - Self.settleNanoseconds : 0
        let lastExpected = schedule.lastPublished(at: settled)
        let tally = FailoverTally(
            streams: streams,
            lastExpected: lastExpected,
            readAt: readAt,
            killedTag: UInt64(Self.killedTag),
            survivorTag: UInt64(Self.survivorTag)
        )

        var measurement = Measurement()
        measurement.values["lost"] = Double(tally.lost)
        measurement.values["duplicated"] = Double(tally.duplicated)
        measurement.values["streams_broken"] = Double(stats.streamsFailed + stats.streamsEnded + tally.silent)
        measurement.values["max_gap_ms"] = tally.longestGapMilliseconds
        measurement.values["median_max_gap_ms"] = Median.of(tally.movedLongestGapsMilliseconds)
        measurement.values["streams_moved"] = Double(tally.moved)
        measurement.values["streams_resumed"] = Double(tally.resumed)
        measurement.values["streams_open"] = Double(streams.filter(\.open).count)
        measurement.notes = ProxyRun.notes(for: stats, peer: peer)
        let survivorCount = heldBySurvivor.map { String($0) } ?? "?"
        measurement.notes.append(
            "upstream connections: \(heldByKilled) on the killed origin when it was killed, \(survivorCount) on the "
                + "other at the end; ids through \(lastExpected) expected"
        )
        if tally.silent > 0 {
            measurement.notes.append("\(tally.silent) open streams got no event at all")
        }
        if tally.unexpected > 0 {
            measurement.notes.append("\(tally.unexpected) events without a numeric id or out of their stream's range")
        }
        return measurement
    }

    /// A rate without a trailing ".0".
    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
