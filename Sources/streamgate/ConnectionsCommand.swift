import ArgumentParser
import Foundation
import NIOPosix
import StreamGateAdmin

/// `streamgate connections`: the admin endpoint's `/connections` as a terminal table (one line per stream, 116
/// columns), or its JSON; `--watch` redraws it every second.
struct ConnectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections",
        abstract: "Show the live connections and streams of a running StreamGate (from its admin endpoint)."
    )

    @OptionGroup var endpoint: AdminOptions

    @Option(help: "Only streams of this kind: http, sse, websocket.")
    var kind: String?

    @Flag(help: "Redraw every second until interrupted.")
    var watch = false

    @Flag(help: "Print the JSON the admin endpoint answers.")
    var json = false

    func run() async throws {
        let client = try endpoint.client()
        let group = MultiThreadedEventLoopGroup.singleton
        var path = "/connections?limit=10000"
        if let kind {
            path += "&kind=\(kind)"
        }
        repeat {
            let (status, body) = try await client.get(path, group: group)
            guard status == 200 else {
                let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                StandardError.write("admin endpoint answered \(status): \(text)\n")
                throw ExitCode(1)
            }
            if json {
                print(String(decoding: body, as: UTF8.self))
            } else {
                if watch {
                    print("\u{1B}[H\u{1B}[2J", terminator: "")
                }
                print(try ConnectionTable.render(body))
            }
            if watch {
                try await Task.sleep(for: .seconds(1))
            }
        } while watch
    }
}

/// The text table of `streamgate connections`.
enum ConnectionTable {
    private struct List: Decodable {
        var connections: [Connection]
        var total: Int
    }

    private struct Connection: Decodable {
        var id: UInt64
        var client: String
        var `protocol`: String?
        var streams: [Stream]
    }

    private struct Stream: Decodable {
        struct Upstream: Decodable {
            var name: String
        }

        var id: UInt32
        var kind: String
        var path: String
        var route: String
        var route_name: String?
        var upstream: Upstream
        var age_ms: Int64
        var idle_ms: Int64
        var events: Int
        var heartbeats: Int
        var state: String
    }

    static let columns: [(String, Int)] = [
        ("CONN", 5), ("STREAM", 6), ("KIND", 9), ("CLIENT", 21), ("PATH", 20), ("ROUTE", 12), ("UPSTREAM", 10),
        ("AGE", 6), ("IDLE", 6), ("EVENTS", 7), ("HB", 5),
    ]

    static func render(_ body: Data) throws -> String {
        let list = try JSONDecoder().decode(List.self, from: body)
        var kinds: [String: Int] = [:]
        var lines = [row(columns.map(\.0))]
        for connection in list.connections {
            for stream in connection.streams {
                kinds[stream.kind, default: 0] += 1
                lines.append(row([
                    "\(connection.id)", "\(stream.id)", stream.kind, connection.client, stream.path,
                    stream.route_name ?? stream.route, stream.upstream.name, duration(stream.age_ms),
                    duration(stream.idle_ms), "\(stream.events)", "\(stream.heartbeats)",
                ]))
            }
        }
        let streams = kinds.values.reduce(0, +)
        let byKind = kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.insert("\(list.total) connections, \(streams) streams\(byKind.isEmpty ? "" : " (\(byKind))")", at: 0)
        return lines.joined(separator: "\n")
    }

    private static func row(_ values: [String]) -> String {
        zip(values, columns).map { value, column in
            let width = column.1
            let text = value.count > width ? String(value.prefix(width - 1)) + "…" : value
            return text.padding(toLength: width, withPad: " ", startingAt: 0)
        }.joined(separator: " ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
    }

    private static func duration(_ milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        let seconds = milliseconds / 1000
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        return "\(seconds / 3600)h"
    }
}
