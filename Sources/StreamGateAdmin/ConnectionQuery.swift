import StreamGateConfig
import StreamGateProxy

/// The filters and paging of `GET /connections`: `kind`, `route` (a route's name or its host pattern and path
/// prefix, or just the prefix), `upstream`, `older_than` and `idle_over` (durations, `60s`), `sort` (`age` or
/// `idle`, longest first), `limit` (default 100, at most 10,000) and `offset` (connections). A connection is
/// listed with its streams that pass every stream filter, and only if one does when a stream filter is given.
struct ConnectionQuery: Equatable {
    enum Sort: String, Equatable {
        case id, age, idle
    }

    var kind: StreamKind?
    var route: String?
    var upstream: String?
    var olderThanMilliseconds: Int64?
    var idleOverMilliseconds: Int64?
    var sort = Sort.id
    var limit = 100
    var offset = 0

    static let maximumLimit = 10_000

    init() {}

    init(_ items: [(String, String)]) throws(AdminRoute.Refusal) {
        for (name, value) in items {
            switch name {
            case "kind":
                guard let kind = StreamKind(rawValue: value) else {
                    throw Self.bad(name, value, "one of http, sse, websocket")
                }
                self.kind = kind
            case "route": route = value
            case "upstream": upstream = value
            case "older_than": olderThanMilliseconds = try Self.milliseconds(name, value)
            case "idle_over": idleOverMilliseconds = try Self.milliseconds(name, value)
            case "sort":
                guard let sort = Sort(rawValue: value) else { throw Self.bad(name, value, "one of id, age, idle") }
                self.sort = sort
            case "limit":
                guard let limit = Int(value), (0...Self.maximumLimit).contains(limit) else {
                    throw Self.bad(name, value, "a whole number from 0 to \(Self.maximumLimit)")
                }
                self.limit = limit
            case "offset":
                guard let offset = Int(value), offset >= 0 else { throw Self.bad(name, value, "a whole number >= 0") }
                self.offset = offset
            default:
                throw AdminRoute.Refusal(
                    status: .badRequest,
                    reason: "unknown filter \"\(name)\" (expected kind, route, upstream, older_than, idle_over, sort, limit, offset)"
                )
            }
        }
    }

    private static func bad(_ name: String, _ value: String, _ expected: String) -> AdminRoute.Refusal {
        AdminRoute.Refusal(status: .badRequest, reason: "\(name)=\(value): expected \(expected)")
    }

    private static func milliseconds(_ name: String, _ value: String) throws(AdminRoute.Refusal) -> Int64 {
        guard let duration = DurationParser.parse(value) else {
            throw bad(name, value, "a duration such as 250ms, 30s, 5m")
        }
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    var filtersStreams: Bool {
        kind != nil || route != nil || upstream != nil || olderThanMilliseconds != nil || idleOverMilliseconds != nil
    }

    func matches(_ stream: StreamSnapshot) -> Bool {
        if let kind, stream.kind != kind { return false }
        if let route, stream.route != route, stream.routeName != route, !stream.route.hasSuffix(route) {
            return false
        }
        if let upstream, stream.upstream != upstream { return false }
        if let olderThanMilliseconds, stream.ageMilliseconds <= olderThanMilliseconds { return false }
        if let idleOverMilliseconds, stream.idleMilliseconds <= idleOverMilliseconds { return false }
        return true
    }

    /// The connections to list (filtered, sorted, one page) and how many matched in all.
    func apply(to connections: [ConnectionSnapshot]) -> (page: [ConnectionSnapshot], total: Int) {
        var matching: [ConnectionSnapshot] = []
        for var connection in connections {
            if filtersStreams {
                connection.streams = connection.streams.filter(matches)
                if connection.streams.isEmpty { continue }
            }
            matching.append(connection)
        }
        switch sort {
        case .id:
            matching.sort { $0.id < $1.id }
        case .age:
            matching.sort { $0.ageMilliseconds > $1.ageMilliseconds }
        case .idle:
            func idle(_ connection: ConnectionSnapshot) -> Int64 {
                connection.streams.map(\.idleMilliseconds).min() ?? connection.ageMilliseconds
            }
            matching.sort { idle($0) > idle($1) }
        }
        let page = Array(matching.dropFirst(offset).prefix(limit))
        return (page, matching.count)
    }
}
