/// (5) Scale: the most idle SSE streams StreamGate holds with heartbeats on before p99 heartbeat lateness passes
/// 1 s. A search over growing levels (`ScenarioSizes.scaleLevels`), each through a fresh proxy (`ScaleLevel`); it
/// stops at the first level that does not hold, or before the first one that does not fit in this machine's
/// open-file limit (`ScaleResourceBudget`), which is then reported as not tried. The search runs once per bench
/// run, whatever the repetitions: its levels already take a while, and a median of searches says little more.
/// StreamGate only: nginx and HAProxy send no heartbeats, and neither does direct. The upstream is `protocol: h2c`
/// to the origin's HTTP/2 port, so the streams share a few hundred upstream connections instead of needing one
/// socket each, which is what fits 50,000 streams in this machine's open-file limit.
struct ScaleScenario: Scenario {
    let id = "scale"
    let title = "Scale"
    let headlineMetric = "streams_held"

    /// A heartbeat later than this fails the level (at p99).
    static let latenessLimit: Duration = .seconds(1)

    func workload(_ sizes: ScenarioSizes) -> String {
        let levels = sizes.scaleLevels.map(String.init).joined(separator: ", ")
        let interval = Double(sizes.scaleHeartbeatMilliseconds) / 1000
        let window = interval * Double(sizes.scaleWindowIntervals)
        return "idle SSE streams at \(levels) (\(sizes.scaleStreamsPerConnection) per connection), through h2c upstreams "
            + "(\(ScaleLevel.upstreamStreamsPerConnection) streams per upstream connection), a fresh proxy per "
            + "level with heartbeats every \(Self.seconds(interval)) s, watched \(Self.seconds(window)) s; a level holds "
            + "when every stream stays open and p99 heartbeat lateness is at most "
            + "\(Int(Self.latenessLimit / .seconds(1))) s; one search, not repeated; lateness, RSS and CPU are the "
            + "largest level run"
    }

    let metrics = [
        MetricSpec(key: "streams_held", label: "most streams held", decimals: 0),
        MetricSpec(key: "streams_run", label: "largest level run", decimals: 0),
        MetricSpec(key: "p50_ms", label: "lateness p50 ms", decimals: 2),
        MetricSpec(key: "p99_ms", label: "lateness p99 ms", decimals: 2),
        MetricSpec(key: "max_ms", label: "lateness max ms", decimals: 1),
        MetricSpec(key: "heartbeats_per_stream", label: "heartbeats / stream", decimals: 1),
        MetricSpec(key: "rss_kib_per_stream", label: "RSS KiB / stream", decimals: 1),
        MetricSpec(key: "cpu_pct", label: "proxy CPU %", decimals: 1),
        MetricSpec(key: "upstream_connections", label: "upstream connections", decimals: 0),
        MetricSpec(key: "streams_open", label: "open", decimals: 0),
        MetricSpec(key: "streams_failed", label: "failed", decimals: 0),
        MetricSpec(key: "streams_ended", label: "ended early", decimals: 0),
        MetricSpec(key: "streams_not_tried", label: "first not tried", decimals: 0),
        MetricSpec(key: "files_needed", label: "files it needs", decimals: 0),
    ]

    func exclusionReason(for peer: PeerName) -> String? {
        peer == .streamgate ? nil : "emits no heartbeats"
    }

    func repetitions(_ sizes: ScenarioSizes) -> Int { 1 }

    func measure(peer launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        guard let streamgate = launcher as? StreamGatePeer else {
            throw ScenarioFailure(description: "the scale scenario measures StreamGate's heartbeats only")
        }
        let sizes = environment.sizes
        let logger = environment.logger
        var results: [ScaleLevelResult] = []
        for streams in sizes.scaleLevels {
            let level = ScaleLevel(
                streams: streams,
                streamsPerConnection: sizes.scaleStreamsPerConnection,
                heartbeatInterval: .milliseconds(sizes.scaleHeartbeatMilliseconds),
                windowIntervals: sizes.scaleWindowIntervals,
                latenessLimit: Self.latenessLimit
            )
            let budget = ScaleResourceBudget.current()
            let connections = (client: level.connections, upstream: level.upstreamConnections)
            if let reason = budget.shortfall(connections: connections.client, upstreamConnections: connections.upstream) {
                var result = ScaleLevelResult(streams: streams, outcome: .notTried(reason))
                let files = budget.filesNeeded(connections: connections.client, upstreamConnections: connections.upstream)
                result.filesNeeded = files > budget.fileLimit ? files : nil
                results.append(result)
                logger.info("scale: \(result.summary)")
                break
            }
            logger.info("scale: \(streams) streams")
            let result: ScaleLevelResult
            do {
                result = try await level.run(streamgate, environment: environment)
            } catch {
                // Nothing measured at all is a failure of the scenario; a later level failing is its result.
                guard !results.isEmpty else { throw error }
                result = ScaleLevelResult(streams: streams, outcome: .notHeld("\(error)"))
            }
            results.append(result)
            logger.info("scale: \(result.summary)")
            if !result.held {
                break
            }
        }
        return Self.measurement(results)
    }

    /// The table's numbers (the largest level run, the first level not tried), every level's numbers under its
    /// own keys, and one note per level.
    private static func measurement(_ results: [ScaleLevelResult]) -> Measurement {
        var measurement = Measurement()
        measurement.values["streams_held"] = Double(results.filter(\.held).map(\.streams).max() ?? 0)
        if let largest = results.last(where: \.wasRun) {
            measurement.values["streams_run"] = Double(largest.streams)
            measurement.values["p50_ms"] = largest.p50Ms
            measurement.values["p99_ms"] = largest.p99Ms
            measurement.values["max_ms"] = largest.maxMs
            measurement.values["heartbeats_per_stream"] = largest.heartbeatsPerStream
            measurement.values["rss_kib_per_stream"] = largest.rssKiBPerStream
            measurement.values["cpu_pct"] = largest.cpuPercent
            measurement.values["upstream_connections"] = largest.upstreamConnections.map(Double.init)
            measurement.values["streams_open"] = Double(largest.streamsOpen)
            measurement.values["streams_failed"] = Double(largest.streamsFailed)
            measurement.values["streams_ended"] = Double(largest.streamsEnded)
        }
        if let notTried = results.first(where: { !$0.wasRun }) {
            measurement.values["streams_not_tried"] = Double(notTried.streams)
            measurement.values["files_needed"] = notTried.filesNeeded.map(Double.init)
        }
        for result in results {
            measurement.values.merge(result.values) { _, new in new }
            measurement.notes.append(result.summary)
            measurement.notes += result.notes.map { "\(result.streams) streams: \($0)" }
        }
        return measurement
    }

    /// Seconds without a trailing ".0".
    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
