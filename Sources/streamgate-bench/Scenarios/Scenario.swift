import Logging
import NIOCore
import StreamGateTLS

/// One number a scenario reports, and which ratios the report shows for it.
struct MetricSpec: Sendable, Codable {
    var key: String
    var label: String
    var decimals: Int
    /// Show `value / nginx's value`.
    var ratioToNginx = false
    /// Show `value / direct's value` (only for what "direct" also has: latency, throughput).
    var ratioToDirect = false
    /// More is better (events/s, messages/s); otherwise less is (CPU, memory, latency, instructions). Says which
    /// other proxy is the best one to compare StreamGate with.
    var higherIsBetter = false
}

/// One of the table rows a peer gets in a scenario that measures each peer in more than one configuration (e.g.
/// shared and private event streams): the row's numbers are those under "<key>.<metric key>" in the peer's
/// measurement, and it is labelled "<peer>, <label>". The unprefixed keys stay the peer's own figures, for the
/// summary table and the comparison with the other proxies.
struct RowVariant: Sendable, Codable {
    var key: String
    var label: String
}

/// One repetition's numbers for one peer, by `MetricSpec.key`, plus what went wrong along the way.
struct Measurement: Sendable, Codable {
    var values: [String: Double] = [:]
    var notes: [String] = []
}

/// Why a scenario could not produce a measurement for a peer.
struct ScenarioFailure: Error, CustomStringConvertible {
    var description: String
}

/// What every scenario may use: the event loops of the load client and of the origin, the TLS client context,
/// the workspace (certificate, configs) and the run's sizes.
struct ScenarioEnvironment: Sendable {
    var clientGroup: any EventLoopGroup
    var originGroup: any EventLoopGroup
    var tlsContext: TLSClientContext
    var workspace: Workspace
    var sizes: ScenarioSizes
    var logger: Logger
}

/// A benchmark scenario: the same work through every peer. New scenarios conform to this and join
/// `Scenarios.all`.
protocol Scenario: Sendable {
    /// Short name for `--only`.
    var id: String { get }
    var title: String { get }
    /// The work, with this run's sizes, e.g. "1000 streams (10 x 100), 1 event/s each, 20 s".
    func workload(_ sizes: ScenarioSizes) -> String
    var metrics: [MetricSpec] { get }
    /// The metric shown in the summary table.
    var headlineMetric: String { get }
    /// Why the scenario does not run yet, or nil when it does.
    var notYetReason: String? { get }
    /// Why `peer` takes no part (e.g. "direct" has no proxy process to measure), or nil.
    func exclusionReason(for peer: PeerName) -> String?
    /// How many times the runner measures each peer: the run's repetitions, unless the scenario says otherwise.
    func repetitions(_ sizes: ScenarioSizes) -> Int
    /// The rows each peer may get, in order (see `RowVariant`); empty for one row per peer, as most scenarios have.
    var rowVariants: [RowVariant] { get }
    func measure(peer: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement
}

extension Scenario {
    var notYetReason: String? { nil }
    func exclusionReason(for peer: PeerName) -> String? { nil }
    func repetitions(_ sizes: ScenarioSizes) -> Int { sizes.repetitions }
    var rowVariants: [RowVariant] { [] }
}

enum Scenarios {
    static let all: [any Scenario] = [
        FanOutLatencyScenario(),
        ThroughputScenario(),
        IdleMemoryScenario(),
        WebSocketEchoScenario(),
        ScaleScenario(),
        AdminCostScenario(),
        InstructionCountScenario(),
        FailoverScenario(),
        SharedSubscriptionScenario(),
    ]
}
