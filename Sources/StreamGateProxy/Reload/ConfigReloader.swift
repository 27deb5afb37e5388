import Logging
import StreamGateConfig
import NIOConcurrencyHelpers

/// Reloads the configuration file into the running proxy (on SIGHUP and `POST /reload`): reads and validates it
/// again and applies it, or keeps serving the generation it has when anything is wrong, logging every error as
/// `file:line: key: message`. Counts reloads by result for `/metrics`.
public final class ConfigReloader: Sendable {
    /// What one reload did.
    public enum Outcome: Sendable {
        /// The generation now serving, and the top-level sections that changed but apply only at restart.
        case applied(ProxyGeneration, restartRequired: [String])
        /// Nothing changed; why.
        case failed([ConfigError])
    }

    /// Reloads so far, by result.
    public struct Counts: Sendable, Equatable {
        public var applied = 0
        public var failed = 0
    }

    /// The file reloads read, as the process was started with it.
    public let path: String
    private let proxy: ProxyServer
    /// The configuration the process started with: the sections a reload cannot change are compared to it.
    private let initial: StreamGateConfiguration
    private let logger: Logger
    private let tally = NIOLockedValueBox(Counts())

    public init(proxy: ProxyServer, logger: Logger) {
        let generation = proxy.generation
        self.path = generation.config.sourcePath
        self.proxy = proxy
        self.initial = generation.config
        self.logger = logger
    }

    public var counts: Counts { tally.withLockedValue { $0 } }

    /// Re-reads `path` and applies it; `trigger` names what asked (`SIGHUP`, `POST /reload`) in the log lines.
    public func reload(trigger: String) async -> Outcome {
        let config: StreamGateConfiguration
        do {
            config = try ConfigLoader.load(path: path)
        } catch {
            return failed(error.errors, trigger: trigger)
        }
        let generation: ProxyGeneration
        do {
            generation = try await proxy.apply(config)
        } catch {
            return failed(error.errors, trigger: trigger)
        }
        tally.withLockedValue { $0.applied += 1 }
        let restart = Self.restartOnlySections(from: initial, to: config)
        let summary = "\(config.listeners.count) listeners, \(config.upstreams.count) upstreams, \(config.routes.count) routes"
        logger.notice(
            "reload (\(trigger)): generation \(generation.number) applied (\(summary)); live streams keep the settings they started with"
        )
        if !restart.isEmpty {
            logger.warning(
                "reload (\(trigger)): \(restart.joined(separator: ", ")) changed; that applies only after a restart"
            )
        }
        return .applied(generation, restartRequired: restart)
    }

    private func failed(_ errors: [ConfigError], trigger: String) -> Outcome {
        tally.withLockedValue { $0.failed += 1 }
        let serving = proxy.generation.number
        let count = "\(errors.count) error\(errors.count == 1 ? "" : "s")"
        logger.error("reload (\(trigger)) failed with \(count); still serving generation \(serving)")
        for error in errors {
            logger.error("\(error.description)")
        }
        return .failed(errors)
    }

    /// The top-level keys whose values differ between `old` and `new` but are read only at start.
    static func restartOnlySections(from old: StreamGateConfiguration, to new: StreamGateConfiguration) -> [String] {
        var sections: [String] = []
        if old.admin != new.admin { sections.append("admin") }
        if old.log != new.log { sections.append("log") }
        if old.accessLog != new.accessLog { sections.append("access_log") }
        return sections
    }
}
