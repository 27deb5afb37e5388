extension ConfigValidator {
    /// Upstream servers need a real port to connect to.
    static let serverPorts = 1...65_535

    mutating func validateUpstreams(_ raw: RawList<RawUpstream>?, at path: ConfigKeyPath) -> [UpstreamConfig] {
        var upstreams: [UpstreamConfig] = []
        var names: [String: ConfigKeyPath] = [:]
        for (upstream, itemPath) in nonEmpty(raw, at: path, "at least one upstream is required") {
            let namePath = itemPath.appending("name")
            let name = name(upstream.name, at: namePath)
            if let name {
                if let first = names[name] {
                    report("duplicate name \"\(name)\" (already used by \(first))", at: namePath)
                } else {
                    names[name] = itemPath
                }
            }
            let serversPath = itemPath.appending("servers")
            let servers = nonEmpty(upstream.servers, at: serversPath, "at least one server is required")
                .compactMap { text, serverPath in
                    address(text, at: serverPath, ports: Self.serverPorts)
                }
            let defaults = UpstreamConfig(name: "", servers: [])
            let connectPath = itemPath.appending("connect_timeout")
            var connectTimeout = duration(upstream.connectTimeout, at: connectPath, default: defaults.connectTimeout)
            if connectTimeout == .zero {
                report("must be greater than 0s", at: connectPath)
                connectTimeout = nil
            }
            let maxIdle = integer(
                upstream.maxIdleConnections,
                at: itemPath.appending("max_idle_connections"),
                in: 0...Int.max,
                default: defaults.maxIdleConnections
            )
            let idleTimeout = duration(
                upstream.idleConnectionTimeout,
                at: itemPath.appending("idle_connection_timeout"),
                default: defaults.idleConnectionTimeout
            )
            if let name, let connectTimeout, let maxIdle, let idleTimeout {
                upstreams.append(
                    UpstreamConfig(
                        name: name,
                        servers: servers,
                        connectTimeout: connectTimeout,
                        maxIdleConnections: maxIdle,
                        idleConnectionTimeout: idleTimeout
                    )
                )
            }
        }
        return upstreams
    }
}
