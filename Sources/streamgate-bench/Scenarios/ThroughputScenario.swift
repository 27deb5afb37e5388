/// (2) Throughput: SSE streams from an origin that writes 200-byte events as fast as backpressure lets it.
/// Measures events delivered per second and the proxy's CPU seconds per million events.
struct ThroughputScenario: Scenario {
    let id = "throughput"
    let title = "Throughput"
    let headlineMetric = "events_per_s"

    func workload(_ sizes: ScenarioSizes) -> String {
        let streams = sizes.floodConnections * sizes.floodStreamsPerConnection
        return
            "\(streams) /flood streams (\(sizes.floodConnections) connections x \(sizes.floodStreamsPerConnection)), "
            + "200-byte events, \(sizes.floodSeconds) s"
    }

    let metrics = [
        MetricSpec(key: "events_per_s", label: "events/s", decimals: 0, ratioToNginx: true, ratioToDirect: true, higherIsBetter: true),
        MetricSpec(key: "mib_per_s", label: "MiB/s", decimals: 1),
        MetricSpec(key: "cpu_s_per_m_events", label: "proxy CPU s / M events", decimals: 2, ratioToNginx: true),
        MetricSpec(key: "streams_failed", label: "failed", decimals: 0),
        MetricSpec(key: "streams_ended", label: "ended early", decimals: 0),
    ]

    /// The flood load: `/flood` streams as fast as backpressure lets them (also the admin scenario's load).
    static func load(_ sizes: ScenarioSizes) -> LoadShape {
        LoadShape(
            connections: sizes.floodConnections,
            streamsPerConnection: sizes.floodStreamsPerConnection,
            path: "/flood",
            recordLatency: false
        )
    }

    func measure(peer launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        let sizes = environment.sizes
        let shape = Self.load(sizes)
        return try await ProxyRun.with(launcher, environment: environment) { peer, _ in
            try await ProxyRun.withLoad(shape, peer: peer, environment: environment) { client in
                let opened = await client.waitUntilSettled(timeout: .seconds(20))
                try ProxyRun.requireOpenStreams(opened)
                try await Task.sleep(for: .seconds(1))  // past slow start and window growth
                let window = try await MeasurementWindow.take(
                    client: client,
                    peer: peer,
                    duration: .seconds(sizes.floodSeconds)
                )
                var measurement = Measurement()
                measurement.values["events_per_s"] = window.events / window.seconds
                measurement.values["mib_per_s"] =
                    Double(window.after.bodyBytes - window.before.bodyBytes) / window.seconds / 1_048_576
                measurement.values["cpu_s_per_m_events"] = window.proxyCPUSecondsPerMillionEvents
                measurement.recordOutcome(window.after, peer: peer)
                return measurement
            }
        }
    }
}
