extension ConfigValidator {
    /// What makes two routes the same: they would match exactly the same requests.
    private struct MatchKey: Hashable {
        var host: HostPattern
        var pathPrefix: String
    }

    mutating func validateRoutes(
        _ raw: RawList<RawRoute>?,
        at path: ConfigKeyPath,
        upstreams rawUpstreams: RawList<RawUpstream>?
    ) -> [RouteConfig] {
        // Names as written, even of upstreams with other errors, so one mistake is not reported twice.
        let upstreamNames = Set((rawUpstreams?.items ?? []).compactMap { $0?.name })
        var routes: [RouteConfig] = []
        var matches: [MatchKey: ConfigKeyPath] = [:]
        var names: [String: ConfigKeyPath] = [:]
        for (route, itemPath) in nonEmpty(raw, at: path, "at least one route is required") {
            var routeName: String?
            if route.name != nil {
                let namePath = itemPath.appending("name")
                routeName = name(route.name, at: namePath)
                if let routeName {
                    if let first = names[routeName] {
                        report("duplicate route name \"\(routeName)\" (already used by \(first))", at: namePath)
                    } else {
                        names[routeName] = itemPath
                    }
                }
            }
            let matchPath = itemPath.appending("match")
            let match = required(route.match, at: matchPath).flatMap { validateMatch($0, at: matchPath) }
            if let match {
                let key = MatchKey(host: match.host, pathPrefix: match.pathPrefix)
                if let first = matches[key] {
                    let what = "host \"\(match.host)\" and path_prefix \"\(match.pathPrefix)\""
                    report("duplicate route for \(what) (already used by \(first))", at: matchPath)
                } else {
                    matches[key] = itemPath
                }
            }
            let upstreamPath = itemPath.appending("upstream")
            var upstream = required(route.upstream, at: upstreamPath)
            if let name = upstream, !upstreamNames.contains(name) {
                report("no upstream named \"\(name)\"", at: upstreamPath)
                upstream = nil
            }
            let timeouts = validateTimeouts(route.timeouts, at: itemPath.appending("timeouts"))
            let ssePath = itemPath.appending("sse")
            let sse = validateSSE(route.sse, at: ssePath)
            // `sse:` with every key commented out still marks the route as an event-stream route.
            let sseConfigured = route.sse != nil || isPresentButEmpty(ssePath)
            let websocket = validateWebSocket(route.websocket, at: itemPath.appending("websocket"))
            var maxRequestBody: Int?? = .some(nil)
            if let text = route.maxRequestBody, ByteSizeParser.parse(text) != 0 {
                maxRequestBody = byteSize(text, at: itemPath.appending("max_request_body"), in: 1...Int.max, default: 0)
                    .map { .some($0) }
            }
            if let match, let upstream, let timeouts, let sse, let websocket, let maxRequestBody {
                routes.append(
                    RouteConfig(
                        match: match,
                        upstream: upstream,
                        timeouts: timeouts,
                        sse: sse,
                        sseConfigured: sseConfigured,
                        websocket: websocket,
                        name: routeName,
                        maxRequestBody: maxRequestBody
                    )
                )
            }
        }
        return routes
    }

    private mutating func validateMatch(_ raw: RawRouteMatch, at path: ConfigKeyPath) -> RouteMatch? {
        var host: HostPattern? = .any
        if let text = raw.host {
            switch HostPattern.parse(text) {
            case .success(let pattern):
                host = pattern
            case .failure(let problem):
                report(problem.message, at: path.appending("host"))
                host = nil
            }
        }
        let prefixPath = path.appending("path_prefix")
        var pathPrefix = required(raw.pathPrefix, at: prefixPath)
        if let prefix = pathPrefix {
            if !prefix.hasPrefix("/") {
                report("must start with \"/\" (got \"\(prefix)\")", at: prefixPath)
                pathPrefix = nil
            } else if prefix.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" }) {
                report("must not contain spaces, \"?\" or \"#\" (got \"\(prefix)\")", at: prefixPath)
                pathPrefix = nil
            }
        }
        guard let host, let pathPrefix else {
            return nil
        }
        return RouteMatch(host: host, pathPrefix: pathPrefix)
    }

    /// Route timeouts; `0s` means no limit, so zero is fine here.
    private mutating func validateTimeouts(_ raw: RawRouteTimeouts?, at path: ConfigKeyPath) -> RouteTimeouts? {
        let defaults = RouteTimeouts()
        let responseHeader = duration(
            raw?.responseHeader,
            at: path.appending("response_header"),
            default: defaults.responseHeader
        )
        let idle = duration(raw?.idle, at: path.appending("idle"), default: defaults.idle)
        let maxLifetime = duration(raw?.maxLifetime, at: path.appending("max_lifetime"), default: defaults.maxLifetime)
        guard let responseHeader, let idle, let maxLifetime else {
            return nil
        }
        return RouteTimeouts(responseHeader: responseHeader, idle: idle, maxLifetime: maxLifetime)
    }
}
