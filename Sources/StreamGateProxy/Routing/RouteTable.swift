import StreamGateConfig

/// Chooses the route for a request: among routes whose host pattern matches, an exact host beats a
/// `*.suffix` wildcard (longer suffix first), which beats `*`; then the longest `path_prefix` wins; then the
/// earlier route in the file. Immutable and shared by every event loop.
public struct RouteTable: Sendable {
    /// Routes in precedence order: the first that matches a request is its route.
    private let ordered: [Route]

    public init(routes: [Route]) {
        self.ordered = routes.sorted { lhs, rhs in
            let left = Self.precedence(lhs), right = Self.precedence(rhs)
            if left.hostRank != right.hostRank { return left.hostRank > right.hostRank }
            if left.prefixLength != right.prefixLength { return left.prefixLength > right.prefixLength }
            return lhs.index < rhs.index
        }
    }

    /// The route for a request to `host` (the Host header as sent, any port and case) and `path` (no query).
    public func route(host: String?, path: Substring) -> Route? {
        let name = host.map(Self.normalizedHost)
        for route in ordered where Self.matches(route.config.match.host, name) {
            if path.hasPrefix(route.config.match.pathPrefix) {
                return route
            }
        }
        return nil
    }

    private static func precedence(_ route: Route) -> (hostRank: Int, prefixLength: Int) {
        let hostRank: Int
        switch route.config.match.host {
        case .exact: hostRank = Int.max
        case .suffix(let suffix): hostRank = suffix.utf8.count
        case .any: hostRank = 0
        }
        return (hostRank, route.config.match.pathPrefix.utf8.count)
    }

    private static func matches(_ pattern: HostPattern, _ host: String?) -> Bool {
        switch pattern {
        case .any:
            return true
        case .exact(let name):
            return host == name
        case .suffix(let suffix):
            guard let host else { return false }
            return host.hasSuffix(suffix) && host.utf8.count > suffix.utf8.count
        }
    }

    /// Lowercased host without port or trailing dot: `Example.COM.:8080` -> `example.com`, `[::1]:80` -> `[::1]`.
    static func normalizedHost(_ host: String) -> String {
        var name = Substring(host)
        if name.hasPrefix("[") {
            if let close = name.firstIndex(of: "]") {
                name = name[...close]
            }
        } else if let colon = name.lastIndex(of: ":") {
            name = name[..<colon]
        }
        if name.hasSuffix(".") {
            name = name.dropLast()
        }
        return name.lowercased()
    }
}
