import Foundation

/// Everything one run found, as written to `results.json`: per scenario, per peer, every repetition and the
/// medians the table shows.
struct BenchReport: Sendable, Codable {
    struct Machine: Sendable, Codable {
        var cores: Int
        var kernel: String
        var fileLimit: Int
    }

    enum Status: String, Sendable, Codable {
        case measured
        /// The peer could not run (missing binary, failed start, failed scenario).
        case skipped
        /// The peer takes no part in this scenario by design.
        case notApplicable = "n/a"
        case notYet = "not yet"
    }

    struct PeerResult: Sendable, Codable {
        var peer: PeerName
        var status: Status
        var reason: String?
        var runs: [Measurement] = []
        var medians: [String: Double] = [:]
    }

    struct ScenarioResult: Sendable, Codable {
        var id: String
        var title: String
        var workload: String
        var metrics: [MetricSpec]
        var headlineMetric: String
        var notYetReason: String?
        var peers: [PeerResult]
        var seconds: Double
        /// The rows each peer may get (`RowVariant`); nil for one row per peer.
        var rowVariants: [RowVariant]?
    }

    var date: Date
    var mode: String
    var repetitions: Int
    var machine: Machine
    /// Event loops / worker processes / threads each peer ran with.
    var workers = 0
    var peerVersions: [String: String]
    var scenarios: [ScenarioResult] = []
    var seconds: Double = 0
}

extension BenchReport.PeerResult {
    /// Fills `medians` from `runs`.
    mutating func computeMedians() {
        let keys = Set(runs.flatMap(\.values.keys))
        for key in keys {
            medians[key] = Median.of(runs.compactMap { $0.values[key] })
        }
    }
}
