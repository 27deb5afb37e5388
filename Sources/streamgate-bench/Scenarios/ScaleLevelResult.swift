import Foundation

/// What one level of the scale search found: whether StreamGate held it (or why not, or why it was not tried),
/// heartbeat lateness, memory and CPU, and the streams' fate.
struct ScaleLevelResult: Sendable {
    enum Outcome: Sendable {
        case held
        case notHeld(String)
        /// The machine cannot run the level (e.g. the open-file limit); the search stops before it.
        case notTried(String)
    }

    var streams: Int
    var outcome: Outcome
    var p50Ms: Double?
    var p99Ms: Double?
    var maxMs: Double?
    /// Heartbeats that arrived in the window, per open stream.
    var heartbeatsPerStream: Double?
    /// Proxy RSS growth from "started, no clients" to the end of the window, per open stream.
    var rssKiBPerStream: Double?
    /// Proxy CPU over the window, in percent of one core.
    var cpuPercent: Double?
    /// Connections open at the origin at the end of the window (the proxy's upstream connections).
    var upstreamConnections: Int?
    var streamsOpen = 0
    var streamsFailed = 0
    var streamsEnded = 0
    /// For a level not tried: the open files it would need.
    var filesNeeded: Int?
    /// Failed streams' reasons and the proxy's warning lines.
    var notes: [String] = []

    var held: Bool {
        if case .held = outcome { return true }
        return false
    }

    var wasRun: Bool {
        if case .notTried = outcome { return false }
        return true
    }

    /// One line for the report's notes, e.g. "10000 streams: held; heartbeat lateness p50 0.4 ms, ...".
    var summary: String {
        switch outcome {
        case .notTried(let reason):
            return "\(streams) streams: \(reason)"
        case .held, .notHeld:
            var parts: [String] = []
            if let p50Ms, let p99Ms, let maxMs {
                parts.append(
                    "heartbeat lateness p50 \(Self.milliseconds(p50Ms)) ms, p99 \(Self.milliseconds(p99Ms)) ms, "
                        + "max \(Self.milliseconds(maxMs)) ms"
                )
            }
            if let heartbeatsPerStream {
                parts.append(String(format: "%.1f heartbeats per stream", heartbeatsPerStream))
            }
            if let rssKiBPerStream {
                parts.append(String(format: "RSS %.1f KiB per stream", rssKiBPerStream))
            }
            if let cpuPercent {
                parts.append(String(format: "proxy CPU %.1f%%", cpuPercent))
            }
            if let upstreamConnections {
                parts.append("\(upstreamConnections) upstream connections")
            }
            parts.append("\(streamsOpen) open, \(streamsFailed) failed, \(streamsEnded) ended early")
            let verdict: String
            if case .notHeld(let reason) = outcome {
                verdict = "not held (\(reason))"
            } else {
                verdict = "held"
            }
            return "\(streams) streams: \(verdict); " + parts.joined(separator: "; ")
        }
    }

    /// The level's numbers under `level_<streams>_<key>`, so `results.json` keeps every level.
    var values: [String: Double] {
        var values: [String: Double] = ["held": held ? 1 : 0]
        if let filesNeeded {
            values["files_needed"] = Double(filesNeeded)
        }
        if wasRun {
            values["p50_ms"] = p50Ms
            values["p99_ms"] = p99Ms
            values["max_ms"] = maxMs
            values["heartbeats_per_stream"] = heartbeatsPerStream
            values["rss_kib_per_stream"] = rssKiBPerStream
            values["cpu_pct"] = cpuPercent
            values["upstream_connections"] = upstreamConnections.map(Double.init)
            values["streams_open"] = Double(streamsOpen)
            values["streams_failed"] = Double(streamsFailed)
            values["streams_ended"] = Double(streamsEnded)
        }
        return Dictionary(uniqueKeysWithValues: values.map { ("level_\(streams)_\($0.key)", $0.value) })
    }

    /// Milliseconds with two decimals below 10, one below 100, none above.
    static func milliseconds(_ value: Double) -> String {
        String(format: value < 10 ? "%.2f" : value < 100 ? "%.1f" : "%.0f", value)
    }
}
