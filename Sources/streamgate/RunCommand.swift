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

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "On shutdown, how long responses in flight may take to finish, in seconds.")
    var drainSeconds: Int = 10

    @Option(help: "Event loop threads (default: one per core).")
    var threads: Int = System.coreCount

    func run() async throws {
        let config = try options.load()
        LogSetup.bootstrap(level: logLevel)
        let logger = Logger(label: "streamgate")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        do {
            let server = try ProxyServer(
                config: config,
                group: group,
                logger: logger,
                drainTimeout: .seconds(max(0, drainSeconds))
            )
            let services = ServiceGroup(
                configuration: .init(
                    services: [.init(service: server)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await services.run()
        } catch {
            logger.critical("streamgate stopped: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        try await group.shutdownGracefully()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Process-wide logging: human-readable lines on standard error.
enum LogSetup {
    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
