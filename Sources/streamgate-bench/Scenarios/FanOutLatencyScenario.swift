/// (1) Fan-out latency: many slow SSE streams multiplexed over few HTTP/2 connections, the browser dashboard
/// case. Measures how long an event takes from the origin's write to the client's parser (p50, p99, max) and
/// the proxy's CPU time over the window.
struct FanOutLatencyScenario: Scenario {
    let id = "fanout"
    let title = "Fan-out latency"
    let headlineMetric = "p99_ms"

    func workload(_ sizes: ScenarioSizes) -> String {
        let streams = sizes.fanOutConnections * sizes.fanOutStreamsPerConnection
        return "\(streams) SSE streams (\(sizes.fanOutConnections) connections x \(sizes.fanOutStreamsPerConnection)), "
            + "\(Int(sizes.fanOutEventsPerSecond)) event/s each, \(sizes.fanOutSeconds) s"
    }

    let metrics = [
        MetricSpec(key: "p50_ms", label: "p50 ms", decimals: 2, ratioToNginx: true, ratioToDirect: true),
        MetricSpec(key: "p99_ms", label: "p99 ms", decimals: 2, ratioToNginx: true, ratioToDirect: true),
        MetricSpec(key: "max_ms", label: "max ms", decimals: 1),
        MetricSpec(key: "cpu_s", label: "proxy CPU s", decimals: 2, ratioToNginx: true),
        MetricSpec(key: "delivered_pct", label: "delivered %", decimals: 1),
        MetricSpec(key: "streams_failed", label: "failed", decimals: 0),
        MetricSpec(key: "streams_ended", label: "ended early", decimals: 0),
    ]

    func measure(peer launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        let sizes = environment.sizes
        let shape = LoadShape(
            connections: sizes.fanOutConnections,
            streamsPerConnection: sizes.fanOutStreamsPerConnection,
            path: "/sse?rate=\(sizes.fanOutEventsPerSecond)",
            recordLatency: true
        )
        return try await ProxyRun.with(launcher, environment: environment) { peer, _ in
            try await ProxyRun.withLoad(shape, peer: peer, environment: environment) { client in
                let opened = await client.waitUntilSettled(timeout: .seconds(30))
                try ProxyRun.requireOpenStreams(opened)
                // Let every stream's first (randomly phased) event arrive before the window opens.
                try await Task.sleep(for: .seconds(1.0 / sizes.fanOutEventsPerSecond + 0.5))
                await client.resetLatency()
                let before = await client.stats()
                let cpuBefore = peer.sample()
                try await Task.sleep(for: .seconds(sizes.fanOutSeconds))
                let after = await client.stats()
                let cpuAfter = peer.sample()

                let expected = Double(opened.streamsOpen) * sizes.fanOutEventsPerSecond * Double(sizes.fanOutSeconds)
                var measurement = Measurement()
                measurement.values["p50_ms"] = after.latency.percentile(0.50).map { Double($0) / 1000 }
                measurement.values["p99_ms"] = after.latency.percentile(0.99).map { Double($0) / 1000 }
                measurement.values["max_ms"] =
                    after.latency.total > 0 ? Double(after.latency.maxMicroseconds) / 1000 : nil
                if let cpuBefore, let cpuAfter {
                    measurement.values["cpu_s"] = cpuAfter.cpuSeconds - cpuBefore.cpuSeconds
                }
                measurement.values["delivered_pct"] =
                    expected > 0 ? 100 * Double(after.events - before.events) / expected : 0
                measurement.values["streams_failed"] = Double(after.streamsFailed)
                measurement.values["streams_ended"] = Double(after.streamsEnded)
                measurement.notes = ProxyRun.notes(for: after, peer: peer)
                return measurement
            }
        }
    }
}
