import ArgumentParser

/// The `streamgate` command line: `run`, `check`, `demo`, `connections`, `reload` and `--version`.
@main
struct StreamGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamgate",
        abstract: "An edge reverse proxy for streaming web traffic (Server-Sent Events and WebSockets).",
        version: StreamGateVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, DemoCommand.self, ConnectionsCommand.self, ReloadCommand.self],
        defaultSubcommand: nil
    )
}

/// The version `streamgate --version` prints.
enum StreamGateVersion {
    static let current = "0.1.0"
}
