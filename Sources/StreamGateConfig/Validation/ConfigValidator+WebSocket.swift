extension ConfigValidator {
    /// The route's WebSocket settings (the defaults when `raw` is nil), or nil after reporting what is wrong.
    /// Zero is valid for every duration: "no limit" for the timeouts, "off" for the pings.
    mutating func validateWebSocket(_ raw: RawWebSocket?, at path: ConfigKeyPath) -> WebSocketConfig? {
        let defaults = WebSocketConfig()
        let idleTimeout = duration(raw?.idleTimeout, at: path.appending("idle_timeout"), default: defaults.idleTimeout)
        let pingInterval = duration(
            raw?.pingInterval,
            at: path.appending("ping_interval"),
            default: defaults.pingInterval
        )
        let upstreamPingInterval = duration(
            raw?.upstreamPingInterval,
            at: path.appending("upstream_ping_interval"),
            default: defaults.upstreamPingInterval
        )
        let maxLifetime = duration(raw?.maxLifetime, at: path.appending("max_lifetime"), default: defaults.maxLifetime)
        let origins = validateOrigins(raw?.allowedOrigins, at: path.appending("allowed_origins"))
        guard let idleTimeout, let pingInterval, let upstreamPingInterval, let maxLifetime, let origins else {
            return nil
        }
        return WebSocketConfig(
            idleTimeout: idleTimeout,
            pingInterval: pingInterval,
            upstreamPingInterval: upstreamPingInterval,
            maxLifetime: maxLifetime,
            allowedOrigins: origins
        )
    }

    /// The serialized origins (none when absent: any origin is accepted), or nil after reporting an entry that is
    /// not an origin or repeats one listed before.
    private mutating func validateOrigins(_ raw: RawList<String>?, at path: ConfigKeyPath) -> [String]? {
        var origins: [String]? = []
        var firstUse: [String: ConfigKeyPath] = [:]
        for (index, item) in (raw?.items ?? []).enumerated() {
            guard let item else {
                origins = nil  // already reported while decoding
                continue
            }
            let itemPath = path.appending(index: index)
            switch OriginParser.parse(item) {
            case .success(let origin):
                if let first = firstUse[origin] {
                    report("duplicate origin \"\(origin)\" (already used by \(first))", at: itemPath)
                    origins = nil
                } else {
                    firstUse[origin] = itemPath
                    origins?.append(origin)
                }
            case .failure(let problem):
                report(problem.message, at: itemPath)
                origins = nil
            }
        }
        return origins
    }
}
