import Foundation

/// Renders a `BenchReport` as Markdown: a summary table (one headline number per scenario and peer, with its
/// ratio to nginx), then one table per scenario with every metric's median and the ratios to nginx and direct (a
/// row per peer, or per peer and configuration in a scenario with row variants).
enum MarkdownReport {
    static func render(_ report: BenchReport) -> String {
        var lines: [String] = []
        let date = ISO8601DateFormatter.string(from: report.date, timeZone: .gmt, formatOptions: [.withFullDate])
        let workers = report.workers == 1 ? "one worker each" : "\(report.workers) workers each (one per core)"
        lines.append("## StreamGate benchmark, \(date) (\(report.mode)), \(workers)")
        lines.append("")
        lines.append(
            "Machine: \(report.machine.cores) cores, Linux \(report.machine.kernel), open-file limit "
                + "\(report.machine.fileLimit). Medians of \(report.repetitions) repetition"
                + (report.repetitions == 1 ? "" : "s") + "; ratios are the peer's median divided by nginx's "
                + "(or direct's). Run took \(Int(report.seconds)) s."
        )
        if !report.peerVersions.isEmpty {
            lines.append(
                "Peers: "
                    + report.peerVersions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                    .joined(separator: ", ") + "."
            )
        }
        lines.append("")
        lines += summary(report)
        for scenario in report.scenarios where scenario.notYetReason == nil {
            lines.append("")
            lines += detail(scenario)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func summary(_ report: BenchReport) -> [String] {
        let peers = PeerName.allCases
        var rows = [["scenario", "headline"] + peers.map(\.rawValue)]
        for scenario in report.scenarios {
            if let reason = scenario.notYetReason {
                rows.append(
                    [scenario.title, "-"] + peers.map { _ in reason.hasPrefix("not yet") ? "not yet" : reason }
                )
                continue
            }
            let spec = scenario.metrics.first { $0.key == scenario.headlineMetric }
            let nginx = value(scenario, .nginx, scenario.headlineMetric)
            var row = [scenario.title, spec?.label ?? scenario.headlineMetric]
            for peer in peers {
                guard let result = scenario.peers.first(where: { $0.peer == peer }) else {
                    row.append("-")
                    continue
                }
                guard result.status == .measured, let spec, let number = result.medians[spec.key] else {
                    row.append(result.status.rawValue)
                    continue
                }
                var cell = format(number, spec.decimals)
                if peer != .nginx, let ratio = ratio(number, nginx) {
                    cell += " (\(ratio) nginx)"
                }
                row.append(cell)
            }
            rows.append(row)
        }
        return table(rows)
    }

    private static func detail(_ scenario: BenchReport.ScenarioResult) -> [String] {
        var lines = ["### \(scenario.title): \(scenario.workload)", ""]
        let nginxSpecs = scenario.metrics.filter(\.ratioToNginx)
        let directSpecs = scenario.metrics.filter(\.ratioToDirect)
        var rows = [
            ["peer"] + scenario.metrics.map(\.label) + nginxSpecs.map { "\($0.label) ÷ nginx" }
                + directSpecs.map { "\($0.label) ÷ direct" }
        ]
        var notes: [String] = []
        for result in scenario.peers {
            guard result.status == .measured else {
                let filler = Array(repeating: "", count: rows[0].count - 2)
                rows.append([result.peer.rawValue, "\(result.status.rawValue): \(result.reason ?? "")"] + filler)
                continue
            }
            for (label, prefix) in tableRows(of: result, in: scenario) {
                var row = [label]
                row += scenario.metrics.map { spec in
                    result.medians[prefix + spec.key].map { format($0, spec.decimals) } ?? "-"
                }
                row += nginxSpecs.map { spec -> String in
                    let nginx = reference(scenario, .nginx, prefix: prefix, key: spec.key)
                    return ratio(result.medians[prefix + spec.key], nginx) ?? "-"
                }
                row += directSpecs.map { spec -> String in
                    let direct = reference(scenario, .direct, prefix: prefix, key: spec.key)
                    return ratio(result.medians[prefix + spec.key], direct) ?? "-"
                }
                rows.append(row)
            }
            for (index, run) in result.runs.enumerated() {
                notes += run.notes.map { "- \(result.peer.rawValue), run \(index + 1): \($0)" }
            }
        }
        lines += table(rows)
        if let comparison = bestPeerComparison(scenario, nginxSpecs) {
            lines.append("")
            lines.append(comparison)
        }
        if !notes.isEmpty {
            lines.append("")
            lines += notes
        }
        return lines
    }

    /// "StreamGate ÷ the best other proxy": for each compared metric, StreamGate's median over the better of
    /// nginx's and HAProxy's (the one with more, or less, as the metric wants), named.
    private static func bestPeerComparison(_ scenario: BenchReport.ScenarioResult, _ specs: [MetricSpec]) -> String? {
        var parts: [String] = []
        for spec in specs {
            guard let own = value(scenario, .streamgate, spec.key) else { continue }
            let others = [PeerName.nginx, .haproxy].compactMap { peer in value(scenario, peer, spec.key).map { (peer, $0) } }
            let best = spec.higherIsBetter ? others.max { $0.1 < $1.1 } : others.min { $0.1 < $1.1 }
            guard let (peer, reference) = best, let text = ratio(own, reference) else { continue }
            parts.append("\(spec.label) \(text) (\(peer.rawValue))")
        }
        return parts.isEmpty ? nil : "StreamGate ÷ the best other proxy: " + parts.joined(separator: ", ") + "."
    }

    /// A measured peer's rows: one, named after the peer; or, in a scenario with row variants, one per variant it
    /// has numbers for (their keys start with `prefix`), named "<peer>, <variant label>".
    private static func tableRows(
        of result: BenchReport.PeerResult,
        in scenario: BenchReport.ScenarioResult
    ) -> [(label: String, prefix: String)] {
        let variants = (scenario.rowVariants ?? []).filter { variant in
            result.medians.keys.contains { $0.hasPrefix(variant.key + ".") }
        }
        guard !variants.isEmpty else { return [(label: result.peer.rawValue, prefix: "")] }
        return variants.map { (label: "\(result.peer.rawValue), \($0.label)", prefix: $0.key + ".") }
    }

    /// What a row's ratio divides by: `peer`'s median of `key` in the same row variant (`prefix`), or its own
    /// figure (the unprefixed key) when it has no such row.
    private static func reference(
        _ scenario: BenchReport.ScenarioResult,
        _ peer: PeerName,
        prefix: String,
        key: String
    ) -> Double? {
        value(scenario, peer, prefix + key) ?? value(scenario, peer, key)
    }

    private static func value(_ scenario: BenchReport.ScenarioResult, _ peer: PeerName, _ key: String) -> Double? {
        scenario.peers.first { $0.peer == peer && $0.status == .measured }?.medians[key]
    }

    private static func ratio(_ value: Double?, _ reference: Double?) -> String? {
        guard let value, let reference, reference != 0 else { return nil }
        return String(format: "%.2f×", value / reference)
    }

    private static func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    private static func table(_ rows: [[String]]) -> [String] {
        guard let header = rows.first else { return [] }
        var lines = ["| " + header.joined(separator: " | ") + " |"]
        lines.append("|" + header.map { _ in " --- " }.joined(separator: "|") + "|")
        for row in rows.dropFirst() {
            lines.append("| " + row.map { $0.replacingOccurrences(of: "|", with: "/") }.joined(separator: " | ") + " |")
        }
        return lines
    }
}
