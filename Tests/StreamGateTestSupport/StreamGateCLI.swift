import Foundation

/// One-shot runs of the `streamgate` command line: `check`, `--version`, a `run` expected to fail.
public enum StreamGateCLI {
    /// Runs `streamgate` with `arguments`, killed after `timeout` seconds.
    public static func run(_ arguments: [String], timeout: TimeInterval = 10) throws -> ProcessResult {
        try ProcessRunner.run(try StreamGateBinary.url(), arguments, timeout: timeout)
    }

    /// Writes `yaml` to `directory/name` and runs `streamgate check --config` on it.
    public static func check(
        yaml: String,
        in directory: TemporaryDirectory,
        name: String = "streamgate.yaml"
    ) throws -> ProcessResult {
        let file = try directory.write(yaml, to: name)
        return try run(["check", "--config", file.path])
    }
}
