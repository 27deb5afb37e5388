import ArgumentParser
import StreamGateConfig

/// The `--config` option shared by the subcommands, and loading with errors printed the way operators read them.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The YAML configuration file.")
    var config: String = "conf/streamgate.yaml"

    /// Loads and validates the file; on errors prints every one to standard error and exits 1.
    func load() throws -> StreamGateConfiguration {
        do {
            return try ConfigLoader.load(path: config)
        } catch let errors {
            StandardError.write(errors.description + "\n")
            StandardError.write("\(errors.errors.count) error(s) in \(config)\n")
            throw ExitCode(1)
        }
    }
}
