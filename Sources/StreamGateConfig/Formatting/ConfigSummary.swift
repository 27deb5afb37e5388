/// Renders a loaded configuration as one screen of text for operators (`streamgate check`, startup logs).
///
/// Durations use their config spelling (`Duration.configText`); a timeout of zero is shown as "none", a heartbeat
/// or ping interval of zero as "off". Under each route, its `sse` block (when it has one) and its WebSocket
/// settings (when not the defaults) get a line each.
public struct ConfigSummary {
    public static func render(_ config: StreamGateConfiguration) -> String {
        var lines = ["configuration: \(config.sourcePath)"]

        lines.append("listeners:")
        for listener in config.listeners {
            let http2 = listener.http2
            lines.append(
                "  \(listener.name)  \(listener.address)  \(security(listener.tls))"
                    + "  h2 max_concurrent_streams=\(http2.maxConcurrentStreams)"
                    + " initial_window_size=\(http2.initialWindowSize)"
                    + " websocket=\(http2.websocket ? "on" : "off")"
            )
        }

        lines.append("admin: \(config.admin.map { "\($0.address)" + ($0.token == nil ? "" : " (token required)") } ?? "disabled")")
        if let accessLog = config.accessLog {
            let path: String
            switch accessLog.destination {
            case .standardOutput: path = "stdout"
            case .standardError: path = "stderr"
            case .file(let file): path = file
            }
            lines.append("access_log: \(path) (\(accessLog.format.rawValue))")
        }

        lines.append("upstreams:")
        for upstream in config.upstreams {
            let servers = zip(upstream.servers, upstream.weights)
                .map { $1 == 1 ? $0.description : "\($0) weight=\($1)" }
                .joined(separator: ", ")
            let passive = upstream.passiveHealth
            var health = passive.maxFails == 0
                ? " passive health off"
                : " max_fails=\(passive.maxFails)/\(passive.failWindow.configText) eject_for=\(passive.ejectFor.configText)"
            if let check = upstream.healthCheck {
                health += " health_check=\(check.path) every \(check.interval.configText)"
            }
            lines.append(
                "  \(upstream.name)  [\(servers)]  balance=\(upstream.balance.rawValue)"
                    + " protocol=\(upstream.protocol.rawValue)"
                    + (upstream.protocol.isMultiplexed
                        ? " max_streams_per_connection=\(upstream.maxStreamsPerConnection)" : "")
                    + (upstream.tls.map(Self.describe) ?? "")
                    + " connect_timeout=\(upstream.connectTimeout.configText)"
                    + (upstream.protocol.isMultiplexed ? "" : " max_connecting=\(upstream.maxConnecting)")
                    + " max_idle_connections=\(upstream.maxIdleConnections)"
                    + " idle_connection_timeout=\(upstream.idleConnectionTimeout.configText)"
                    + health
            )
        }

        lines.append("routes:")
        for route in config.routes {
            let timeouts = route.timeouts
            lines.append(
                "  \(route.name.map { "\($0): " } ?? "")\(route.match.host) \(route.match.pathPrefix) -> \(route.upstream)"
                    + "  response_header=\(limit(timeouts.responseHeader))"
                    + " idle=\(limit(timeouts.idle))"
                    + " max_lifetime=\(limit(timeouts.maxLifetime))"
            )
            if route.sseConfigured {
                lines.append("    sse  " + sse(route.sse))
            }
            if route.websocket != WebSocketConfig() {
                lines.append("    websocket  " + websocket(route.websocket))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A route's explicit `sse` block; the comment and retry only when set.
    private static func sse(_ sse: SSEConfig) -> String {
        var text = "heartbeat_interval=\(interval(sse.heartbeatInterval))"
        if !sse.heartbeatComment.isEmpty {
            text += " heartbeat_comment=\"\(sse.heartbeatComment)\""
        }
        if let retry = sse.retry {
            text += " retry=\(retry.configText)"
        }
        text += " first_byte=\(sse.firstByte.rawValue)"
            + " upstream_accept_encoding=\(sse.upstreamAcceptEncoding.rawValue)"
        if let resume = sse.resume {
            text += " resume=on resume_attempts=\(resume.attempts) resume_backoff=\(resume.backoff.configText)"
                + " resume_on_end=\(resume.onEnd) resume_max_event=\(ByteSizeParser.text(resume.maxEventBytes))"
        }
        if let shared = sse.shared {
            text += " shared=[\(shared.key.map(\.text).joined(separator: ","))] replay=\(shared.replayEvents)"
                + " replay_bytes=\(ByteSizeParser.text(shared.replayBytes)) idle_close=\(shared.idleClose.configText)"
                + " missed=\(shared.missed.rawValue) max_event=\(ByteSizeParser.text(shared.maxEventBytes))"
        }
        return text
    }

    /// A route's WebSocket settings (shown only when they differ from the defaults).
    private static func websocket(_ websocket: WebSocketConfig) -> String {
        let origins = websocket.allowedOrigins.isEmpty ? "any" : websocket.allowedOrigins.joined(separator: ",")
        return "idle_timeout=\(limit(websocket.idleTimeout)) ping_interval=\(interval(websocket.pingInterval))"
            + " upstream_ping_interval=\(interval(websocket.upstreamPingInterval))"
            + " max_lifetime=\(limit(websocket.maxLifetime)) allowed_origins=\(origins)"
    }

    /// "cleartext", or the TLS default certificate, how many SNI certificates there are and the handshake limit.
    private static func security(_ tls: TLSConfig?) -> String {
        guard let tls else {
            return "cleartext"
        }
        return "tls certificate=\(tls.certificate.certificatePath) sni_certificates=\(tls.sniCertificates.count)"
            + " handshake_timeout=\(tls.handshakeTimeout.configText)"
    }

    /// A heartbeat or ping interval where zero means off.
    /// ` tls=verify ca_file=... server_name=...` for an upstream over TLS.
    private static func describe(_ tls: UpstreamTLSConfig) -> String {
        " tls=" + (tls.verify ? "verify" : "no-verify") + " ca_file=" + (tls.caFile ?? "system")
            + (tls.serverName.map { " server_name=\($0)" } ?? "")
    }

    private static func interval(_ duration: Duration) -> String {
        duration == .zero ? "off" : duration.configText
    }

    /// A timeout where zero means no limit.
    private static func limit(_ duration: Duration) -> String {
        duration == .zero ? "none" : duration.configText
    }
}
