import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StreamGateConfig
import StreamGateProxy

/// `streamgate run`: serves the configured listeners until SIGINT or SIGTERM, then drains and exits.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the proxy until SIGINT or SIGTERM."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: the config's log.level).")
    var logLevel: Logger.Level?

    @Option(help: "Log format: text or json (default: the config's log.format).")
    var logFormat: LogFormat?

    @Option(help: "On shutdown, how long the drain may take, in seconds (default: the config's drain.timeout).")
    var drainSeconds: Int?

    @Option(help: "Event loop threads (default: one per core).")
    var threads: Int = System.coreCount

    func run() async throws {
        let config = try options.load()
        LogSetup.bootstrap(
            level: logLevel ?? Logger.Level(rawValue: config.log.level) ?? .info,
            format: logFormat ?? config.log.format
        )
        let logger = Logger(label: "streamgate")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        var runtime: ProxyRuntime?
        do {
            let started = try ProxyRuntime(config: config, group: group, logger: logger)
            runtime = started
            try await started.run(drainTimeout: drainSeconds.map { .seconds(max(0, $0)) })
        } catch {
            logger.critical("streamgate stopped: \(error)")
            try? await group.shutdownGracefully()
            runtime?.close()
            throw ExitCode(1)
        }
        try await group.shutdownGracefully()
        runtime?.close()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
