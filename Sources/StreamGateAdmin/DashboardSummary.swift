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

    static func make(_ aggregate: RegistryAggregate, at now: Date) -> Summary {
        var byKind: [String: Int] = ["http": 0, "sse": 0, "websocket": 0]
        var routes: [Route] = []
        for (key, count) in aggregate.streams {
            byKind[key.kind.rawValue, default: 0] += count
            routes.append(Route(route: key.route, kind: key.kind.rawValue, streams: count))
        }
        routes.sort { ($0.streams, $1.route) > ($1.streams, $0.route) }
        let totals = aggregate.totals
        return Summary(
            time: AdminJSON.timestamp(now),
            connections: aggregate.connectionCount,
            streams: byKind,
            routes: routes,
            events: totals.events.values.reduce(0, +) + aggregate.liveEvents.values.reduce(0, +),
            heartbeats: totals.heartbeats.values.reduce(0, +) + aggregate.liveHeartbeats.values.reduce(0, +),
            bytesIn: totals.bytesIn + aggregate.liveBytesIn,
            bytesOut: totals.bytesOut + aggregate.liveBytesOut,
            ended: totals.streams.values.reduce(0, +)
        )
    }

    /// One SSE event carrying the summary.
    static func event(_ aggregate: RegistryAggregate, at now: Date) -> String {
        let json = String(decoding: AdminJSON.encode(make(aggregate, at: now)), as: UTF8.self)
        return "data: \(json)\n\n"
    }
}
