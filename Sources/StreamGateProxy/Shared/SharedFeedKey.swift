import NIOHTTP1
import StreamGateConfig

/// Which shared feed a request asks for: its route and Host, then the parts of the request the route's
/// `sse.shared.key` names (path, query, cookie, authorization, headers). Requests with equal keys on one event
/// loop share one upstream stream.
struct SharedFeedKey: Hashable {
    private let route: ObjectIdentifier
    private let host: String?
    private let parts: [String?]

    /// The key of `head` on `route`, or nil when the request may not be shared: not a GET, or carrying `Cookie` or
    /// `Authorization` that the key does not include (a request with credentials gets its own upstream stream,
    /// never another client's).
    init?(route: Route, head: HTTPRequestHead, host: String?, config: SSESharedConfig) {
        guard head.method == .GET else { return nil }
        if head.headers.contains(name: "cookie") && !config.key.contains(.cookie) { return nil }
        if head.headers.contains(name: "authorization") && !config.key.contains(.authorization) { return nil }
        let target = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.route = ObjectIdentifier(route)
        self.host = host?.lowercased()
        self.parts = config.key.map { part in
            switch part {
            case .path: String(target.first ?? "")
            case .query: target.count > 1 ? String(target[1]) : nil
            case .cookie: head.headers[canonicalForm: "cookie"].joined(separator: "; ")
            case .authorization: head.headers.first(name: "authorization")
            case .header(let name): head.headers[canonicalForm: name].joined(separator: ", ")
            }
        }
    }
}
