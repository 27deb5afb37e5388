import Foundation
import Logging

/// Runs the selected scenarios against the selected peers, repetition by repetition (peer order rotated each
/// time, so drift on a noisy machine does not always favour the same peer), and collects the report.
struct BenchRunner {
    var scenarios: [any Scenario]
    var launchers: [any PeerLauncher]
    var environment: ScenarioEnvironment
    var mode: String
    var machine: BenchReport.Machine
    var peerVersions: [String: String]

    /// The report, and whether some scenario could not run for StreamGate itself.
    func run() async -> (report: BenchReport, streamGateFailed: Bool) {
        let logger = environment.logger
        let started = ContinuousClock.now
        var report = BenchReport(
            date: Date(),
            mode: mode,
            repetitions: environment.sizes.repetitions,
            machine: machine,
            peerVersions: peerVersions
        )
        var streamGateFailed = false
        for scenario in scenarios {
            let scenarioStarted = ContinuousClock.now
            var results = launchers.map { BenchReport.PeerResult(peer: $0.name, status: .measured) }
            if let reason = scenario.notYetReason {
                for index in results.indices {
                    results[index].status = .notYet
                    results[index].reason = reason
                }
            } else {
                for (index, launcher) in launchers.enumerated() {
                    if let reason = launcher.unavailableReason() {
                        results[index].status = .skipped
                        results[index].reason = reason
                    } else if let reason = scenario.exclusionReason(for: launcher.name) {
                        results[index].status = .notApplicable
                        results[index].reason = reason
                    }
                }
                for repetition in 0..<scenario.repetitions(environment.sizes) {
                    let order = launchers.indices.map { ($0 + repetition) % launchers.count }
                    for index in order where results[index].status == .measured && results[index].reason == nil {
                        let launcher = launchers[index]
                        logger.info("\(scenario.id) run \(repetition + 1): \(launcher.name.rawValue)")
                        do {
                            let measurement = try await scenario.measure(peer: launcher, environment: environment)
                            results[index].runs.append(measurement)
                            for note in measurement.notes {
                                logger.warning("\(scenario.id) \(launcher.name.rawValue): \(note)")
                            }
                        } catch {
                            logger.error("\(scenario.id) \(launcher.name.rawValue) failed: \(error)")
                            results[index].reason = "failed: \(error)"
                        }
                    }
                }
                for index in results.indices where results[index].status == .measured {
                    if results[index].runs.isEmpty {
                        results[index].status = .skipped
                        if launchers[index].name == .streamgate {
                            streamGateFailed = true
                        }
                    }
                    results[index].computeMedians()
                }
                if let streamgate = results.first(where: { $0.peer == .streamgate }), streamgate.status == .skipped {
                    streamGateFailed = true
                }
            }
            report.scenarios.append(
                BenchReport.ScenarioResult(
                    id: scenario.id,
                    title: scenario.title,
                    workload: scenario.workload(environment.sizes),
                    metrics: scenario.metrics,
                    headlineMetric: scenario.headlineMetric,
                    notYetReason: scenario.notYetReason,
                    peers: results,
                    seconds: (ContinuousClock.now - scenarioStarted) / .seconds(1),
                    rowVariants: scenario.rowVariants.isEmpty ? nil : scenario.rowVariants
                )
            )
        }
        report.seconds = (ContinuousClock.now - started) / .seconds(1)
        return (report, streamGateFailed)
    }
}
