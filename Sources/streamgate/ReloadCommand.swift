import ArgumentParser
import Foundation
import NIOPosix
import StreamGateAdmin

/// `streamgate reload`: asks a running StreamGate to re-read its configuration file (`POST /reload` on its admin
/// endpoint, the same as SIGHUP) and prints the generation it now serves, or every error, each as
/// `file:line: key: message` (the old configuration keeps serving then, and the command exits 1).
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload the configuration file of a running StreamGate (through its admin endpoint)."
    )

    @OptionGroup var endpoint: AdminOptions

    private struct Answer: Decodable {
        struct Problem: Decodable {
            var text: String
        }

        var result: String
        var generation: Int?
        var restart_required: [String]?
        var errors: [Problem]?
    }

    func run() async throws {
        let client = try endpoint.client()
        let (status, body) = try await client.request(.POST, "/reload", group: MultiThreadedEventLoopGroup.singleton)
        guard let answer = try? JSONDecoder().decode(Answer.self, from: body) else {
            let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            StandardError.write("admin endpoint answered \(status): \(text)\n")
            throw ExitCode(1)
        }
        if answer.result == "applied", let generation = answer.generation {
            print("reloaded: generation \(generation) serving")
            if let sections = answer.restart_required, !sections.isEmpty {
                print("changed but applied only after a restart: \(sections.joined(separator: ", "))")
            }
            return
        }
        StandardError.write("reload failed; the running configuration is unchanged:\n")
        for problem in answer.errors ?? [] {
            StandardError.write(problem.text + "\n")
        }
        throw ExitCode(1)
    }
}
