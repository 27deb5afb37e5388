import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import StreamGateTLS

/// `streamgate-bench`: StreamGate, nginx, HAProxy and no proxy at all, on the same SSE work in the same run,
/// reported as medians and ratios (see docs/benchmark.md).
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamgate-bench",
        abstract: "Compare StreamGate with nginx, HAProxy and a direct connection on SSE workloads."
    )

    @Flag(help: "Short run: one repetition, smaller and shorter scenarios (under 2 minutes).")
    var quick = false

    @Option(help: "Run one scenario only: \(Scenarios.all.map(\.id).joined(separator: ", ")).")
    var only: String?

    @Option(help: "Comma-separated peers to compare.")
    var peers = PeerName.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Folder for results.json and results.md.")
    var output = ".build/bench-results"

    @Option(help: "The streamgate binary (default: .build/release/streamgate next to this tool, built if missing).")
    var streamgateBinary: String?

    @Option(help: "Log level of the progress lines on standard error.")
    var logLevel = "info"

    @Option(
        help: """
            Workers of each peer (StreamGate event loops, nginx worker processes, HAProxy threads): 'cores' (one per \
            core), '1', or 'both' (every scenario at each, two tables).
            """
    )
    var workers = "both"

    func validate() throws {
        if let only, !Scenarios.all.contains(where: { $0.id == only }) {
            throw ValidationError("--only: no scenario \"\(only)\"; choose from \(Scenarios.all.map(\.id))")
        }
        if !["cores", "1", "both"].contains(workers) {
            throw ValidationError("--workers: \"\(workers)\" is none of cores, 1, both")
        }
        for name in peerNames where PeerName(rawValue: name) == nil {
            throw ValidationError("--peers: no peer \"\(name)\"; choose from \(PeerName.allCases.map(\.rawValue))")
        }
    }

    private var peerNames: [String] {
        peers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "streamgate-bench")
        let fileLimit = FileLimit.raiseToHardLimit()
        let sizes = quick ? ScenarioSizes.quick : ScenarioSizes.full
        let workspace = try Workspace.create()
        defer { workspace.remove() }
        let binary: String?
        if peerNames.contains(PeerName.streamgate.rawValue) {
            do {
                binary = try StreamGateBinary.locate(explicitPath: streamgateBinary, logger: logger)
            } catch {
                logger.critical("cannot get the streamgate binary: \(error)")
                throw ExitCode(1)
            }
        } else {
            binary = nil
        }

        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let originGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let environment = ScenarioEnvironment(
            clientGroup: clientGroup,
            originGroup: originGroup,
            tlsContext: try TLSClientContext(),
            workspace: workspace,
            sizes: sizes,
            logger: logger
        )
        var reports: [BenchReport] = []
        var streamGateFailed = false
        for workerCount in workerCounts {
            logger.info("peers with \(workerCount) worker\(workerCount == 1 ? "" : "s") each")
            let (launchers, versions) = launchers(
                settings: PeerSettings(workers: workerCount, fileLimit: fileLimit),
                streamgateBinary: binary
            )
            let runner = BenchRunner(
                scenarios: Scenarios.all.filter { only == nil || $0.id == only },
                launchers: launchers,
                environment: environment,
                mode: quick ? "quick" : "full",
                machine: BenchReport.Machine(cores: System.coreCount, kernel: MachineInfo.kernel(), fileLimit: fileLimit),
                peerVersions: versions
            )
            let (measured, failed) = await runner.run()
            var report = measured
            report.workers = workerCount
            reports.append(report)
            streamGateFailed = streamGateFailed || failed
        }
        try? await clientGroup.shutdownGracefully()
        try? await originGroup.shutdownGracefully()

        workspace.collectLogs(into: URL(fileURLWithPath: output).appendingPathComponent("logs").path)
        let markdown = reports.map(MarkdownReport.render).joined(separator: "\n")
        let written = try ReportWriter.write(reports, markdown: markdown, to: output)
        StandardOutput.write(markdown)
        logger.info("results written: \(written.prefix(2).joined(separator: ", "))")
        if streamGateFailed {
            logger.critical("a scenario could not run for StreamGate; see the table")
            throw ExitCode(1)
        }
    }

    /// Per core first, then one each, as `--workers` asks (once when the machine has one core).
    private var workerCounts: [Int] {
        switch workers {
        case "1": [1]
        case "cores": [System.coreCount]
        default: System.coreCount == 1 ? [1] : [System.coreCount, 1]
        }
    }

    /// The selected peers with `settings`, and the version each reports.
    private func launchers(settings: PeerSettings, streamgateBinary binary: String?) -> ([any PeerLauncher], [String: String]) {
        let logger = Logger(label: "streamgate-bench")
        var launchers: [any PeerLauncher] = []
        var versions: [String: String] = [:]
        for peer in PeerName.allCases where peerNames.contains(peer.rawValue) {
            switch peer {
            case .streamgate:
                guard let binary else { continue }
                launchers.append(StreamGatePeer(binaryPath: binary, settings: settings))
                versions["streamgate"] = MachineInfo.version(of: binary, flag: "--version")
            case .nginx:
                launchers.append(NginxPeer(settings: settings))
                versions["nginx"] = ExecutableLookup.find("nginx").flatMap { MachineInfo.version(of: $0, flag: "-v") }
                    .map { $0.replacingOccurrences(of: "nginx version: ", with: "") }
            case .haproxy:
                launchers.append(HAProxyPeer(settings: settings))
                versions["haproxy"] = ExecutableLookup.find("haproxy").flatMap {
                    MachineInfo.version(of: $0, flag: "-v")
                }
                .map { $0.components(separatedBy: " - ").first ?? $0 }
            case .direct:
                launchers.append(DirectPeer())
            }
        }
        for launcher in launchers {
            if let reason = launcher.unavailableReason() {
                logger.warning("\(launcher.name.rawValue) skipped: \(reason)")
            }
        }
        return (launchers, versions)
    }
}
