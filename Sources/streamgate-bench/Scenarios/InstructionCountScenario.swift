import Foundation

/// (7) Instructions per proxied event: the proxy runs under valgrind's callgrind, which counts every instruction
/// it executes, while one connection of 10 `/flood` streams delivers a fixed number of events. Two runs, of N and
/// 3N events, and the difference of their totals over the difference of their events: start-up, the TLS
/// handshake and shutdown cancel out, what is left is the cost of one more event. A count, not a time, so it
/// barely moves between runs on a noisy machine: the figure to judge a change of the hot path by. StreamGate is
/// counted as a build with the Swift runtime linked in statically (`StreamGateBinary.forCallgrind`).
struct InstructionCountScenario: Scenario {
    let id = "instructions"
    let title = "Instructions per event"
    let headlineMetric = "instructions_per_event"

    func workload(_ sizes: ScenarioSizes) -> String {
        "under callgrind: 1 connection x 10 /flood streams, \(sizes.instructionEvents) then "
            + "\(3 * sizes.instructionEvents) events of 200 bytes; (total 2 - total 1) / (events 2 - events 1)"
    }

    let metrics = [
        MetricSpec(key: "instructions_per_event", label: "instructions / event", decimals: 0, ratioToNginx: true),
        MetricSpec(key: "instructions_first_run_m", label: "first run, M instructions", decimals: 0),
        MetricSpec(key: "streams_failed", label: "failed", decimals: 0),
    ]

    /// Counted, not timed: one repetition says it all.
    func repetitions(_ sizes: ScenarioSizes) -> Int { 1 }

    func exclusionReason(for peer: PeerName) -> String? {
        if peer == .direct {
            return "no proxy process to count"
        }
        return ExecutableLookup.find("valgrind") == nil ? "valgrind not found (apt-get install -y valgrind)" : nil
    }

    func measure(peer launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        let events = environment.sizes.instructionEvents
        let first = try await countedRun(launcher, events: events, environment: environment)
        let second = try await countedRun(launcher, events: 3 * events, environment: environment)
        var measurement = Measurement()
        let extraEvents = Double(second.events) - Double(first.events)
        guard extraEvents > 0, second.instructions > first.instructions else {
            throw ScenarioFailure(
                description: "the counts do not grow with the events: \(first.instructions) instructions for "
                    + "\(first.events) events, \(second.instructions) for \(second.events)"
            )
        }
        measurement.values["instructions_per_event"] = Double(second.instructions - first.instructions) / extraEvents
        measurement.values["instructions_first_run_m"] = Double(first.instructions) / 1e6
        measurement.values["streams_failed"] = Double(first.streamsFailed + second.streamsFailed)
        measurement.notes = first.notes + second.notes
        return measurement
    }

    private struct CountedRun {
        var instructions: UInt64
        var events: UInt64
        var streamsFailed: Int
        var notes: [String]
    }

    /// One process under callgrind from start to exit, with at least `events` delivered through it.
    private func countedRun(
        _ launcher: any PeerLauncher,
        events: Int,
        environment: ScenarioEnvironment
    ) async throws -> CountedRun {
        let folder = try environment.workspace.peerFolder("callgrind")
        // nginx's workers drop to an unprivileged user when started as root, and write their counts here too.
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: folder.path)
        var counted = launcher
        if var streamgate = launcher as? StreamGatePeer {
            streamgate.binaryPath = try StreamGateBinary.forCallgrind(workspace: environment.workspace, logger: environment.logger)
            counted = streamgate
        }
        guard let valgrind = ExecutableLookup.find("valgrind"),
            let wrapped = counted.wrapped(in: [
                valgrind, "--tool=callgrind", "--callgrind-out-file=\(folder.path)/%p.callgrind",
            ])
        else {
            throw ScenarioFailure(description: "cannot run \(launcher.name.rawValue) under valgrind")
        }
        let shape = LoadShape(connections: 1, streamsPerConnection: 10, path: "/flood", recordLatency: false)
        let (delivered, stats, notes) = try await ProxyRun.with(wrapped, environment: environment, grace: .seconds(60)) {
            peer, _ in
            try await ProxyRun.withLoad(shape, peer: peer, environment: environment) { client in
                let opened = await client.waitUntilSettled(timeout: .seconds(60))
                try ProxyRun.requireOpenStreams(opened)
                let deadline = ContinuousClock.now + .seconds(300)
                var current = opened
                while current.events < UInt64(events) && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                    current = await client.stats()
                }
                guard current.events >= UInt64(events) else {
                    throw ScenarioFailure(description: "only \(current.events) of \(events) events in 300 s")
                }
                return (current.events, current, ProxyRun.notes(for: current, peer: peer))
            }
        }
        let instructions = try Self.totalInstructions(in: folder)
        return CountedRun(instructions: instructions, events: delivered, streamsFailed: stats.streamsFailed, notes: notes)
    }

    /// The sum of the `summary:` lines (instructions executed) of every callgrind file in `folder`: one per
    /// process (nginx's master and workers each write their own).
    static func totalInstructions(in folder: URL) throws -> UInt64 {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".callgrind") }
        var total: UInt64 = 0
        for file in files {
            let text = try String(contentsOfFile: folder.appendingPathComponent(file).path, encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("summary:") {
                total += UInt64(line.dropFirst("summary:".count).trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        guard total > 0 else {
            throw ScenarioFailure(description: "no callgrind totals in \(folder.path) (files: \(files))")
        }
        return total
    }
}
