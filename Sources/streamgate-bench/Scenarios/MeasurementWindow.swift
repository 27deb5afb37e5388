/// One measurement window: the load client's counters and the proxy process's CPU and RSS at its start and its
/// end, and how long it lasted. Scenarios differ in what they compute from a window, not in how they take it.
struct MeasurementWindow: Sendable {
    var before: ClientStats
    var after: ClientStats
    /// The proxy process at the start and at the end; nil for "direct" or a process that is gone.
    var proxyBefore: ProcessSample?
    var proxyAfter: ProcessSample?
    var seconds: Double

    /// Samples the client and the proxy, waits `duration`, runs `beforeEnd` (e.g. to count what is overdue),
    /// and samples again.
    static func take(
        client: LoadClient,
        peer: RunningPeer,
        duration: Duration,
        beforeEnd: () async -> Void = {}
    ) async throws -> MeasurementWindow {
        let before = await client.stats()
        let proxyBefore = peer.sample()
        let started = ContinuousClock.now
        try await Task.sleep(for: duration)
        await beforeEnd()
        let after = await client.stats()
        let proxyAfter = peer.sample()
        return MeasurementWindow(
            before: before,
            after: after,
            proxyBefore: proxyBefore,
            proxyAfter: proxyAfter,
            seconds: (ContinuousClock.now - started) / .seconds(1)
        )
    }

    /// SSE events or WebSocket messages delivered in the window.
    var events: Double { Double(after.events - before.events) }

    /// Proxy CPU seconds spent in the window, when both samples were read.
    var proxyCPUSeconds: Double? {
        guard let proxyBefore, let proxyAfter else { return nil }
        return proxyAfter.cpuSeconds - proxyBefore.cpuSeconds
    }

    /// Proxy CPU seconds per million events, when measured and something was delivered.
    var proxyCPUSecondsPerMillionEvents: Double? {
        guard let cpu = proxyCPUSeconds, events > 0 else { return nil }
        return cpu / (events / 1e6)
    }
}

extension Measurement {
    /// `p50_ms` and `p99_ms` of `histogram`.
    mutating func recordPercentiles(of histogram: LatencyHistogram) {
        values["p50_ms"] = histogram.percentile(0.50).map { Double($0) / 1000 }
        values["p99_ms"] = histogram.percentile(0.99).map { Double($0) / 1000 }
    }

    /// `streams_failed`, `streams_ended` and the notes (failed streams, the peer's warnings) from the final stats.
    mutating func recordOutcome(_ stats: ClientStats, peer: RunningPeer) {
        values["streams_failed"] = Double(stats.streamsFailed)
        values["streams_ended"] = Double(stats.streamsEnded)
        notes = ProxyRun.notes(for: stats, peer: peer)
    }
}
