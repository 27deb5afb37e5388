/// A scenario with its place in the report but no measurement yet: (5) scale. Replace it with a real `Scenario`
/// (and add that to `Scenarios.all`).
struct NotYetScenario: Scenario {
    let id: String
    let title: String
    let reason: String

    init(id: String, title: String, reason: String) {
        self.id = id
        self.title = title
        self.reason = reason
    }

    func workload(_ sizes: ScenarioSizes) -> String { "-" }
    var metrics: [MetricSpec] { [] }
    var headlineMetric: String { "" }
    var notYetReason: String? { reason }

    func measure(peer: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        throw ScenarioFailure(description: reason)
    }
}
