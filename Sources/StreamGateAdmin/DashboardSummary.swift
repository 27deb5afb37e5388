import Foundation
import StreamGateProxy

/// What the dashboard's live view gets once a second on `/events`: counts by kind and route, and the cumulative
/// events, heartbeats and bytes (the page derives rates from two in a row). Aggregates only, whatever the number
/// of streams; the table of connections pages through `/connections`.
enum DashboardSummary {
    struct Summary: Encodable {
        var time: String
        var connections: Int
        var streams: [String: Int]
        var routes: [Route]
        var events: Int
        var heartbeats: Int
        var bytesIn: Int
        var bytesOut: Int
        var ended: Int

        enum CodingKeys: String, CodingKey {
            case time, connections, streams, routes, events, heartbeats, ended
            case bytesIn = "bytes_in", bytesOut = "bytes_out"
        }
    }

    struct Route: Encodable {
        var route: String
        var kind: String
        var streams: Int
    }

    static func make(_ snapshot: LiveSnapshot, at now: Date) -> Summary {
        var byKind: [String: Int] = ["http": 0, "sse": 0, "websocket": 0]
        var byRoute: [String: [String: Int]] = [:]
        let totals = snapshot.totals
        var events = totals.events.values.reduce(0, +)
        var heartbeats = totals.heartbeats.values.reduce(0, +)
        var bytesIn = totals.bytesIn
        var bytesOut = totals.bytesOut
        for connection in snapshot.connections {
            bytesIn += connection.bytesIn
            bytesOut += connection.bytesOut
            for stream in connection.streams {
                byKind[stream.kind.rawValue, default: 0] += 1
                byRoute[stream.routeName ?? stream.route, default: [:]][stream.kind.rawValue, default: 0] += 1
                events += stream.events
                heartbeats += stream.heartbeats
            }
        }
        let routes = byRoute.flatMap { route, kinds in
            kinds.map { Route(route: route, kind: $0.key, streams: $0.value) }
        }.sorted { ($0.streams, $1.route) > ($1.streams, $0.route) }
        return Summary(
            time: AdminJSON.timestamp(now),
            connections: snapshot.connections.count,
            streams: byKind,
            routes: routes,
            events: events,
            heartbeats: heartbeats,
            bytesIn: bytesIn,
            bytesOut: bytesOut,
            ended: totals.streams.values.reduce(0, +)
        )
    }

    /// One SSE event carrying the summary.
    static func event(_ snapshot: LiveSnapshot, at now: Date) -> String {
        let json = String(decoding: AdminJSON.encode(make(snapshot, at: now)), as: UTF8.self)
        return "data: \(json)\n\n"
    }
}
