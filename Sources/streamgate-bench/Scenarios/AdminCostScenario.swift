import Foundation
import NIOCore
import StreamGateAdmin

/// (6) What watching costs: the throughput load through StreamGate with its admin endpoint on, measured without
/// an observer, with a client polling `/connections` every 100 ms and scraping `/metrics` every second, and
/// without again (the baseline is the mean of the two quiet windows); then, with thousands of idle streams
/// open, how long one snapshot of all of them takes to answer (`/connections` with every stream, `/metrics`).
struct AdminCostScenario: Scenario {
    let id = "admin"
    let title = "Admin endpoint cost"
    let headlineMetric = "polled_overhead_pct"

    func workload(_ sizes: ScenarioSizes) -> String {
        let streams = sizes.floodConnections * sizes.floodStreamsPerConnection
        return "\(streams) /flood streams, \(sizes.floodSeconds) s quiet, polled, quiet; then "
            + "\(sizes.adminSnapshotStreams) idle streams and 5 timed snapshots"
    }

    let metrics = [
        MetricSpec(key: "polled_overhead_pct", label: "CPU / event while polled, % over quiet", decimals: 1),
        MetricSpec(key: "cpu_quiet", label: "quiet CPU s / M events", decimals: 3),
        MetricSpec(key: "cpu_polled", label: "polled CPU s / M events", decimals: 3),
        MetricSpec(key: "polls", label: "/connections polls", decimals: 0),
        MetricSpec(key: "snapshot_streams", label: "streams in snapshot", decimals: 0),
        MetricSpec(key: "connections_ms", label: "/connections all streams ms", decimals: 1),
        MetricSpec(key: "connections_kib", label: "its JSON KiB", decimals: 0),
        MetricSpec(key: "metrics_ms", label: "/metrics ms", decimals: 1),
    ]

    func exclusionReason(for peer: PeerName) -> String? {
        peer == .streamgate ? nil : "StreamGate's own admin endpoint"
    }

    func measure(peer launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        guard let streamgate = launcher as? StreamGatePeer else {
            throw ScenarioFailure(description: "the admin scenario measures StreamGate's admin endpoint only")
        }
        var measurement = try await pollingCost(streamgate.withAdmin(), environment: environment)
        let snapshot = try await snapshotTime(streamgate.withAdmin(), environment: environment)
        measurement.values.merge(snapshot.values) { $1 }
        measurement.notes += snapshot.notes
        return measurement
    }

    private func admin(_ peer: RunningPeer) throws -> AdminClient {
        guard let port = peer.adminPort else { throw ScenarioFailure(description: "no admin port in the log") }
        return AdminClient(host: "127.0.0.1", port: port)
    }

    private func pollingCost(_ launcher: StreamGatePeer, environment: ScenarioEnvironment) async throws -> Measurement {
        let sizes = environment.sizes
        let shape = ThroughputScenario.load(sizes)
        return try await ProxyRun.with(launcher, environment: environment) { peer, _ in
            let client = try admin(peer)
            return try await ProxyRun.withLoad(shape, peer: peer, environment: environment) { load in
                try ProxyRun.requireOpenStreams(await load.waitUntilSettled(timeout: .seconds(20)))
                try await Task.sleep(for: .seconds(1))
                let duration = Duration.seconds(sizes.floodSeconds)
                let quiet1 = try await MeasurementWindow.take(client: load, peer: peer, duration: duration)
                let group = environment.clientGroup
                let poller = Task { () -> Int in
                    var polls = 0
                    var nextScrape = ContinuousClock.now
                    while !Task.isCancelled {
                        _ = try? await client.get("/connections", group: group)
                        polls += 1
                        if ContinuousClock.now >= nextScrape {
                            _ = try? await client.get("/metrics", group: group)
                            nextScrape = ContinuousClock.now + .seconds(1)
                        }
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                    return polls
                }
                let polled = try await MeasurementWindow.take(client: load, peer: peer, duration: duration)
                poller.cancel()
                let polls = await poller.value
                let quiet2 = try await MeasurementWindow.take(client: load, peer: peer, duration: duration)
                var measurement = Measurement()
                guard let a = quiet1.proxyCPUSecondsPerMillionEvents, let b = polled.proxyCPUSecondsPerMillionEvents,
                    let c = quiet2.proxyCPUSecondsPerMillionEvents
                else { throw ScenarioFailure(description: "no CPU sample of the proxy") }
                let quiet = (a + c) / 2
                measurement.values["cpu_quiet"] = quiet
                measurement.values["cpu_polled"] = b
                measurement.values["polled_overhead_pct"] = (b / quiet - 1) * 100
                measurement.values["polls"] = Double(polls)
                measurement.recordOutcome(quiet2.after, peer: peer)
                return measurement
            }
        }
    }

    private func snapshotTime(_ launcher: StreamGatePeer, environment: ScenarioEnvironment) async throws -> Measurement {
        let sizes = environment.sizes
        let perConnection = 100
        let shape = LoadShape(
            connections: max(1, sizes.adminSnapshotStreams / perConnection),
            streamsPerConnection: perConnection,
            path: "/idle",
            recordLatency: false
        )
        return try await ProxyRun.with(launcher, environment: environment) { peer, _ in
            let client = try admin(peer)
            return try await ProxyRun.withLoad(shape, peer: peer, environment: environment) { load in
                let opened = await load.waitUntilSettled(timeout: .seconds(60))
                try ProxyRun.requireOpenStreams(opened)
                let group = environment.clientGroup
                func timed(_ path: String) async throws -> (milliseconds: Double, bytes: Int) {
                    var times: [Double] = []
                    var bytes = 0
                    for _ in 0..<5 {
                        let started = ContinuousClock.now
                        let (status, body) = try await client.get(path, group: group)
                        let elapsed = ContinuousClock.now - started
                        guard status == 200 else { throw ScenarioFailure(description: "\(path) answered \(status)") }
                        times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                        bytes = body.count
                    }
                    return (times.sorted()[times.count / 2], bytes)
                }
                let connections = try await timed("/connections?limit=10000")
                let metrics = try await timed("/metrics")
                var measurement = Measurement()
                measurement.values["snapshot_streams"] = Double(opened.streamsOpen)
                measurement.values["connections_ms"] = connections.milliseconds
                measurement.values["connections_kib"] = Double(connections.bytes) / 1024
                measurement.values["metrics_ms"] = metrics.milliseconds
                return measurement
            }
        }
    }
}
