import ArgumentParser
import StreamGateConfig

/// `streamgate check`: validates a config file; prints a summary when valid, every error when not.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration file and summarize it."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        print(ConfigSummary.render(config))
        print("\(options.config): configuration is valid")
    }
}
