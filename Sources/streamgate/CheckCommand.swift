import ArgumentParser
import StreamGateConfig
import StreamGateProxy

/// `streamgate check`: validates a config file; prints a summary when valid, every error when not.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration file and summarize it."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        do {
            // Loads every certificate, key and upstream CA file, as `run` will, so a mismatched pair or a file
            // OpenSSL cannot read fails here too.
            _ = try ListenerTLS.makeContexts(for: config)
            try UpstreamTLS.validate(config)
        } catch {
            StandardError.write(error.description + "\n")
            StandardError.write("\(error.errors.count) error(s) in \(config.sourcePath)\n")
            throw ExitCode(1)
        }
        print(ConfigSummary.render(config))
        print("\(config.sourcePath): configuration is valid")
    }
}
