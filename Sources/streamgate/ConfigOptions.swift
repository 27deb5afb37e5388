import ArgumentParser
import Foundation
import StreamGateConfig

/// `--config FILE`, shared by the commands that read a configuration; without it, the first file of
/// `searchPath` that exists (and the command says which).
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .shortAndLong,
        help: "The YAML configuration file (default: the first of ./streamgate.yaml, ./conf/streamgate.yaml, /etc/streamgate/streamgate.yaml that exists)."
    )
    var config: String?

    /// Where a configuration is looked for without `--config`, in order: the working directory (as nginx's
    /// `-p`-less runs from a prefix), a checkout of this repository, the system's place.
    static let searchPath = ["streamgate.yaml", "conf/streamgate.yaml", "/etc/streamgate/streamgate.yaml"]

    /// The file given, or the first of `searchPath` that exists; nil when none does.
    var path: String? {
        config ?? Self.searchPath.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Loads and validates the file; on errors prints every one to standard error and exits 1.
    func load() throws -> StreamGateConfiguration {
        guard let path else {
            let directory = FileManager.default.currentDirectoryPath
            StandardError.write(
                "no configuration file: looked for \(Self.searchPath.joined(separator: ", ")) (from \(directory)); "
                    + "pass --config FILE\n"
            )
            throw ExitCode(1)
        }
        if config == nil {
            StandardError.write("using configuration \(path)\n")
        }
        do {
            return try ConfigLoader.load(path: path)
        } catch let errors {
            StandardError.write(errors.description + "\n")
            StandardError.write("\(errors.errors.count) error(s) in \(path)\n")
            throw ExitCode(1)
        }
    }
}
