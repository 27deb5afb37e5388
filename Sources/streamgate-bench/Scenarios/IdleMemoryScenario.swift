/// (3) Idle memory: thousands of quiet SSE streams through a fresh proxy process. Measures the proxy's resident
/// memory per open stream, its CPU while nothing happens, and whether it closes its upstream connections once
/// the clients are gone (counted by the origin).
struct IdleMemoryScenario: Scenario {
    let id = "idle"
    let title = "Idle memory"
    let headlineMetric = "rss_kib_per_stream"

    func workload(_ sizes: ScenarioSizes) -> String {
        let streams = sizes.idleConnections * sizes.idleStreamsPerConnection
        return
            "\(streams) idle SSE streams (\(sizes.idleConnections) connections x \(sizes.idleStreamsPerConnection)), "
            + "fresh proxy, \(sizes.idleSeconds) s idle, upstreams counted \(sizes.afterCloseSeconds) s after close"
    }

    let metrics = [
        MetricSpec(key: "rss_kib_per_stream", label: "RSS KiB / stream", decimals: 1, ratioToNginx: true),
        MetricSpec(key: "rss_base_mib", label: "RSS at start MiB", decimals: 1),
        MetricSpec(key: "rss_open_mib", label: "RSS all open MiB", decimals: 1),
        MetricSpec(key: "idle_cpu_ms", label: "idle CPU ms", decimals: 0, ratioToNginx: true),
        MetricSpec(key: "upstreams_left", label: "upstreams open after close", decimals: 0),
        MetricSpec(key: "streams_open", label: "open", decimals: 0),
        MetricSpec(key: "streams_failed", label: "failed", decimals: 0),
    ]

    func exclusionReason(for peer: PeerName) -> String? {
        peer == .direct ? "no proxy process to measure" : nil
    }

    func measure(peer launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        let sizes = environment.sizes
        let shape = LoadShape(
            connections: sizes.idleConnections,
            streamsPerConnection: sizes.idleStreamsPerConnection,
            path: "/idle",
            recordLatency: false
        )
        return try await ProxyRun.with(launcher, environment: environment) { peer, origin in
            try await Task.sleep(for: .seconds(1))
            guard let base = peer.sample() else { throw ScenarioFailure(description: "proxy process gone") }
            let client = await LoadClient.open(
                group: environment.clientGroup,
                target: peer.target,
                shape: shape,
                tlsContext: environment.tlsContext
            )
            let opened = await client.waitUntilSettled(timeout: .seconds(60))
            var measurement = Measurement()
            do {
                try ProxyRun.requireOpenStreams(opened)
                try await Task.sleep(for: .seconds(1))
                guard let loaded = peer.sample() else { throw ScenarioFailure(description: "proxy process gone") }
                try await Task.sleep(for: .seconds(sizes.idleSeconds))
                guard let idle = peer.sample() else { throw ScenarioFailure(description: "proxy process gone") }
                let final = await client.stats()
                measurement.values["rss_base_mib"] = Double(base.rssKiB) / 1024
                measurement.values["rss_open_mib"] = Double(loaded.rssKiB) / 1024
                measurement.values["rss_kib_per_stream"] =
                    Double(loaded.rssKiB - base.rssKiB) / Double(opened.streamsOpen)
                measurement.values["idle_cpu_ms"] = (idle.cpuSeconds - loaded.cpuSeconds) * 1000
                measurement.values["streams_open"] = Double(opened.streamsOpen)
                measurement.values["streams_failed"] = Double(final.streamsFailed)
                measurement.notes = ProxyRun.notes(for: final, peer: peer)
            } catch {
                await client.close()
                throw error
            }
            await client.close()
            try await Task.sleep(for: .seconds(sizes.afterCloseSeconds))
            let left = try await origin.openConnections()
            measurement.values["upstreams_left"] = Double(left)
            if left > 0 {
                measurement.notes.append(
                    "\(left) upstream connections still open \(sizes.afterCloseSeconds) s after the clients left"
                )
            }
            return measurement
        }
    }
}
