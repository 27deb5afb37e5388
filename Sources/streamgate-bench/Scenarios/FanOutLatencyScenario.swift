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
                let window = try await MeasurementWindow.take(
                    client: client,
                    peer: peer,
                    duration: .seconds(sizes.fanOutSeconds)
                )
                let latency = window.after.latency
                let expected = Double(opened.streamsOpen) * sizes.fanOutEventsPerSecond * Double(sizes.fanOutSeconds)
                var measurement = Measurement()
                measurement.recordPercentiles(of: latency)
                measurement.values["max_ms"] = latency.total > 0 ? Double(latency.maxMicroseconds) / 1000 : nil
                measurement.values["cpu_s"] = window.proxyCPUSeconds
                measurement.values["delivered_pct"] = expected > 0 ? 100 * window.events / expected : 0
                measurement.recordOutcome(window.after, peer: peer)
                return measurement
            }
        }
    }
}
