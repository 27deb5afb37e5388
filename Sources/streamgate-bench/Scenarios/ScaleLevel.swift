/// One level of the scale search: `streams` idle SSE streams (`/idle`: head, one comment, then silence), 100 or so
/// per HTTP/2 connection, through a fresh StreamGate whose route sends heartbeats every `heartbeatInterval` and
/// whose upstream is h2c (the streams multiplexed toward the origin).
/// Once every stream has its answer, the client watches `windowIntervals` intervals and times each heartbeat
/// (`HeartbeatWatch`); at the end, each stream whose next heartbeat is overdue counts with how overdue it is.
/// The level holds when every stream opened and stayed open and p99 lateness is at most `latenessLimit`.
struct ScaleLevel: Sendable {
    var streams: Int
    var streamsPerConnection: Int
    var heartbeatInterval: Duration
    var windowIntervals: Int
    var latenessLimit: Duration

    var connections: Int { (streams + streamsPerConnection - 1) / streamsPerConnection }

    /// StreamGate's default `max_streams_per_connection`, which the scale peer keeps.
    static let upstreamStreamsPerConnection = 100
    /// The most upstream connections the proxy opens: full ones, plus one part-filled per event loop and server
    /// (64 covers any core count here).
    var upstreamConnections: Int {
        (streams + Self.upstreamStreamsPerConnection - 1) / Self.upstreamStreamsPerConnection + 64
    }
    var window: Duration { heartbeatInterval * windowIntervals }

    func run(_ streamgate: StreamGatePeer, environment: ScenarioEnvironment) async throws -> ScaleLevelResult {
        let shape = LoadShape(
            connections: connections,
            streamsPerConnection: streamsPerConnection,
            path: "/idle",
            recordLatency: false,
            heartbeats: HeartbeatWatch(interval: heartbeatInterval)
        )
        let peer = streamgate.withSSEHeartbeats(every: heartbeatInterval).withMultiplexedUpstream()
        return try await ProxyRun.with(peer, environment: environment) { running, origin in
            try await Task.sleep(for: .seconds(1))
            guard let base = running.sample() else { throw ScenarioFailure(description: "proxy process gone") }
            return try await ProxyRun.withLoad(shape, peer: running, environment: environment) { client in
                let opened = await client.waitUntilSettled(timeout: .seconds(30 + streams / 500))
                try ProxyRun.requireOpenStreams(opened)
                // The last streams' first bytes (StreamGate's first comment, the origin's) are on their way.
                try await Task.sleep(for: .milliseconds(500))
                await client.resetLatency()
                let watched = try await MeasurementWindow.take(client: client, peer: running, duration: window) {
                    await client.recordOverdueHeartbeats()
                }
                let after = watched.after

                var result = ScaleLevelResult(streams: streams, outcome: .held)
                result.streamsOpen = opened.streamsOpen
                result.streamsFailed = after.streamsFailed
                result.streamsEnded = after.streamsEnded
                let lateness = after.heartbeatLateness
                result.p50Ms = lateness.percentile(0.50).map { Double($0) / 1000 }
                result.p99Ms = lateness.percentile(0.99).map { Double($0) / 1000 }
                result.maxMs = lateness.total > 0 ? Double(lateness.maxMicroseconds) / 1000 : nil
                result.heartbeatsPerStream =
                    Double(after.heartbeats - watched.before.heartbeats) / Double(opened.streamsOpen)
                let end = watched.proxyAfter
                if let end {
                    result.rssKiBPerStream = Double(end.rssKiB - base.rssKiB) / Double(opened.streamsOpen)
                }
                result.cpuPercent = watched.proxyCPUSeconds.map { 100 * $0 / watched.seconds }
                result.upstreamConnections = try? await origin.openConnections()
                result.outcome = outcome(of: result, proxyAlive: end != nil)
                result.notes = ProxyRun.notes(for: after, peer: running)
                return result
            }
        }
    }

    /// Held, or why not: streams that did not open or did not stay open, no heartbeat at all, or p99 lateness
    /// over the limit.
    private func outcome(of result: ScaleLevelResult, proxyAlive: Bool) -> ScaleLevelResult.Outcome {
        guard proxyAlive else { return .notHeld("the proxy process is gone") }
        if result.streamsOpen < streams || result.streamsFailed > 0 || result.streamsEnded > 0 {
            return .notHeld(
                "\(result.streamsOpen) of \(streams) streams opened, \(result.streamsFailed) failed, "
                    + "\(result.streamsEnded) ended early"
            )
        }
        guard let p99 = result.p99Ms else { return .notHeld("no heartbeat arrived") }
        let limitMs = latenessLimit / .milliseconds(1)
        if p99 > limitMs {
            let p99Text = ScaleLevelResult.milliseconds(p99)
            return .notHeld("p99 heartbeat lateness \(p99Text) ms is over \(Int(limitMs)) ms")
        }
        return .held
    }
}
