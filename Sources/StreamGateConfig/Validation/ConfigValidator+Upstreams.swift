extension ConfigValidator {
    /// Upstream servers need a real port to connect to.
    static let serverPorts = 1...65_535
    /// Weights as nginx allows them; a weight is a share, not a count.
    static let serverWeights = 1...1_000
    /// Streams per HTTP/2 upstream connection: at least one, and no more than a stream-id space would use well.
    static let streamsPerConnection = 1...10_000
    /// Connects in progress per server and event loop: at least one, or no stream could ever connect.
    static let connectsInProgress = 1...100_000

    mutating func validateUpstreams(
        _ raw: RawList<RawUpstream>?,
        at path: ConfigKeyPath,
        sourcePath: String
    ) -> [UpstreamConfig] {
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
            let servers = validateServers(upstream.servers, at: itemPath.appending("servers"))
            let defaults = UpstreamConfig(name: "", servers: [])
            let connectPath = itemPath.appending("connect_timeout")
            var connectTimeout = duration(upstream.connectTimeout, at: connectPath, default: defaults.connectTimeout)
            if connectTimeout == .zero {
                report("must be greater than 0s", at: connectPath)
                connectTimeout = nil
            }
            let maxConnecting = integer(
                upstream.maxConnecting,
                at: itemPath.appending("max_connecting"),
                in: Self.connectsInProgress,
                default: defaults.maxConnecting
            )
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
            let balance = choice(upstream.balance, at: itemPath.appending("balance"), default: defaults.balance)
            let upstreamProtocol = choice(upstream.protocol, at: itemPath.appending("protocol"), default: defaults.protocol)
            let maxStreams = integer(
                upstream.maxStreamsPerConnection,
                at: itemPath.appending("max_streams_per_connection"),
                in: Self.streamsPerConnection,
                default: defaults.maxStreamsPerConnection
            )
            let tls = validateUpstreamTLS(
                upstream.tls, protocol: upstreamProtocol, at: itemPath.appending("tls"), sourcePath: sourcePath
            )
            let passive = validatePassiveHealth(upstream, at: itemPath)
            var healthCheck: HealthCheckConfig?? = .some(nil)
            if let raw = upstream.healthCheck {
                healthCheck = validateHealthCheck(raw, at: itemPath.appending("health_check")).map { .some($0) }
            }
            if let name, let servers, let connectTimeout, let maxConnecting, let maxIdle, let idleTimeout, let balance,
                let upstreamProtocol, let maxStreams, let passive, let healthCheck, let tls
            {
                upstreams.append(
                    UpstreamConfig(
                        name: name,
                        servers: servers.map(\.address),
                        weights: servers.map(\.weight),
                        balance: balance,
                        protocol: upstreamProtocol,
                        maxStreamsPerConnection: maxStreams,
                        connectTimeout: connectTimeout,
                        maxConnecting: maxConnecting,
                        maxIdleConnections: maxIdle,
                        idleConnectionTimeout: idleTimeout,
                        passiveHealth: passive,
                        healthCheck: healthCheck,
                        tls: tls
                    )
                )
            }
        }
        return upstreams
    }

    /// The servers with their weights; nil when any is invalid (each problem reported at its element).
    private mutating func validateServers(
        _ raw: RawList<RawServer>?,
        at path: ConfigKeyPath
    ) -> [(address: HostPort, weight: Int)]? {
        var servers: [(address: HostPort, weight: Int)] = []
        var valid = raw != nil
        var seen: [HostPort: ConfigKeyPath] = [:]
        for (server, serverPath) in nonEmpty(raw, at: path, "at least one server is required") {
            let addressPath = server.isMapping ? serverPath.appending("address") : serverPath
            let address = address(server.address, at: addressPath, ports: Self.serverPorts)
            let weight = integer(server.weight, at: serverPath.appending("weight"), in: Self.serverWeights, default: 1)
            guard let address, let weight else {
                valid = false
                continue
            }
            if let first = seen[address] {
                report("duplicate server \(address) (already at \(first))", at: addressPath)
                valid = false
                continue
            }
            seen[address] = serverPath
            servers.append((address, weight))
        }
        if let raw, raw.items.contains(where: { $0 == nil }) {
            valid = false
        }
        return valid && !servers.isEmpty ? servers : nil
    }

    /// The `tls` block: required in effect for `h2` (its defaults when absent), allowed for `http1` (HTTPS to the
    /// servers), refused for `h2c`, which is cleartext by definition. `.some(nil)` for cleartext; nil after an error.
    private mutating func validateUpstreamTLS(
        _ raw: RawUpstreamTLS?,
        protocol upstreamProtocol: UpstreamProtocol?,
        at path: ConfigKeyPath,
        sourcePath: String
    ) -> UpstreamTLSConfig?? {
        if upstreamProtocol == .h2c, raw != nil {
            report("h2c is HTTP/2 over cleartext; for HTTP/2 over TLS use protocol: h2", at: path)
            return nil
        }
        guard let raw else {
            return .some(upstreamProtocol == .h2 ? UpstreamTLSConfig() : nil)
        }
        var valid = true
        var caFile: String?
        if let text = raw.caFile {
            caFile = readableFile(text, at: path.appending("ca_file"), sourcePath: sourcePath)
            valid = valid && caFile != nil
        }
        if let name = raw.serverName {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.count > 253 || trimmed.contains(where: { $0.isWhitespace || $0 == "/" }) {
                report("must be a host name or IP address (got \"\(name)\")", at: path.appending("server_name"))
                valid = false
            }
        }
        guard valid else { return nil }
        return .some(
            UpstreamTLSConfig(
                caFile: caFile,
                caFileLocation: raw.caFile == nil ? nil : location(of: path.appending("ca_file")),
                serverName: raw.serverName,
                verify: raw.verify ?? true
            )
        )
    }

    /// `max_fails` (0 turns passive health off), `fail_window` and `eject_for`, both above zero.
    private mutating func validatePassiveHealth(_ raw: RawUpstream, at path: ConfigKeyPath) -> PassiveHealthConfig? {
        let defaults = PassiveHealthConfig()
        let maxFails = integer(raw.maxFails, at: path.appending("max_fails"), in: 0...1_000, default: defaults.maxFails)
        let window = positiveDuration(raw.failWindow, at: path.appending("fail_window"), default: defaults.failWindow)
        let ejectFor = positiveDuration(raw.ejectFor, at: path.appending("eject_for"), default: defaults.ejectFor)
        guard let maxFails, let window, let ejectFor else { return nil }
        return PassiveHealthConfig(maxFails: maxFails, failWindow: window, ejectFor: ejectFor)
    }

    /// `health_check: { path: /healthz, interval: 5s, timeout: 1s, fall: 3, rise: 2 }`; the timeout must be
    /// shorter than the interval, so checks of one server never overlap.
    private mutating func validateHealthCheck(_ raw: RawHealthCheck, at path: ConfigKeyPath) -> HealthCheckConfig? {
        let defaults = HealthCheckConfig()
        var checkPath: String? = raw.path ?? defaults.path
        if let text = checkPath, !text.hasPrefix("/") || text.contains(where: { $0.isWhitespace || $0.isNewline }) {
            report("must be an absolute path without spaces, e.g. /healthz (got \"\(text)\")", at: path.appending("path"))
            checkPath = nil
        }
        let interval = positiveDuration(raw.interval, at: path.appending("interval"), default: defaults.interval)
        let timeout = positiveDuration(raw.timeout, at: path.appending("timeout"), default: defaults.timeout)
        let fall = integer(raw.fall, at: path.appending("fall"), in: 1...100, default: defaults.fall)
        let rise = integer(raw.rise, at: path.appending("rise"), in: 1...100, default: defaults.rise)
        guard let checkPath, let interval, let timeout, let fall, let rise else { return nil }
        guard timeout < interval else {
            report(
                "must be shorter than health_check.interval (\(interval.configText))",
                at: path.appending("timeout")
            )
            return nil
        }
        return HealthCheckConfig(path: checkPath, interval: interval, timeout: timeout, fall: fall, rise: rise)
    }

    /// A duration above zero, `fallback` when absent, or nil after reporting why not.
    private mutating func positiveDuration(_ text: String?, at path: ConfigKeyPath, default fallback: Duration) -> Duration? {
        guard let value = duration(text, at: path, default: fallback) else { return nil }
        guard value > .zero else {
            report("must be greater than 0s", at: path)
            return nil
        }
        return value
    }
}
