import Foundation
import StreamGateTestSupport
import XCTest

/// The man page and shell completions shipped in docs/ (for packagers and `install`) match the binary: every
/// completion script is what `streamgate --generate-completion-script` prints now, and the man page (from
/// swift-argument-parser's generate-manual plugin) names every subcommand and option the binary has.
final class ManualAndCompletionTests: XCTestCase {
    private static let docs = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs")
    private static let regenerate = "regenerate: swift package generate-manual, then copy "
        + ".build/plugins/GenerateManual/outputs/streamgate/streamgate.1 to docs/man/"

    func testCompletionScriptsAreWhatTheBinaryGenerates() throws {
        for shell in ["bash", "zsh", "fish"] {
            let generated = try StreamGateCLI.run(["--generate-completion-script", shell])
            XCTAssertEqual(generated.exitCode, 0, generated.stderr)
            let shipped = try String(
                contentsOf: Self.docs.appendingPathComponent("completions/streamgate.\(shell)"),
                encoding: .utf8
            )
            XCTAssertEqual(
                shipped, generated.stdout,
                "docs/completions/streamgate.\(shell) is stale: streamgate --generate-completion-script \(shell) > it"
            )
        }
    }

    func testManualNamesEverySubcommandAndOption() throws {
        let dump = try StreamGateCLI.run(["--experimental-dump-help"])
        XCTAssertEqual(dump.exitCode, 0, dump.stderr)
        let help = try JSONDecoder().decode(ToolHelp.self, from: dump.stdoutData)
        let manual = try String(contentsOf: Self.docs.appendingPathComponent("man/streamgate.1"), encoding: .utf8)
        // mdoc spells a subcommand as `.It Em NAME` and options as `.It Fl c , -config Ar value` (one dash less).
        let spelled = Set(
            manual.split(separator: "\n").filter { $0.hasPrefix(".It Fl ") }.flatMap { line in
                line.split(separator: " ").dropFirst(2).prefix { $0 != "Ar" }.filter { $0 != "," }.map(String.init)
            }
        )
        var missing: [String] = []
        for command in help.command.subcommands ?? [] where command.commandName != "help" {
            if !manual.contains(".It Em \(command.commandName)") {
                missing.append(command.commandName)
            }
            for argument in command.arguments ?? [] where argument.kind != "positional" {
                for name in argument.names ?? [] where !spelled.contains((name.kind == "long" ? "-" : "") + name.name) {
                    missing.append("\(command.commandName) \(name.kind == "long" ? "--" : "-")\(name.name)")
                }
            }
        }
        XCTAssertFalse(help.command.subcommands?.isEmpty ?? true, "no subcommands in the dump")
        XCTAssertEqual(missing, [], "docs/man/streamgate.1 misses these; \(Self.regenerate)")
    }
}

/// The parts of `--experimental-dump-help` (swift-argument-parser's ToolInfo) the test reads.
private struct ToolHelp: Decodable {
    struct Name: Decodable {
        let kind: String
        let name: String
    }

    struct Argument: Decodable {
        let kind: String
        let names: [Name]?
    }

    struct Command: Decodable {
        let commandName: String
        let arguments: [Argument]?
        let subcommands: [Command]?
    }

    let command: Command
}
