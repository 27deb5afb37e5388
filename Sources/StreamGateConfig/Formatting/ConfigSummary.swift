/// Renders a loaded configuration as one screen of text for operators (`streamgate check`, startup logs).
///
/// Durations use their config spelling (`Duration.configText`); a route timeout of zero is shown as "none".
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
            )
        }

        lines.append("admin: \(config.admin.map { "\($0.address)" } ?? "disabled")")

        lines.append("upstreams:")
        for upstream in config.upstreams {
            let servers = upstream.servers.map(\.description).joined(separator: ", ")
            lines.append(
                "  \(upstream.name)  [\(servers)]  connect_timeout=\(upstream.connectTimeout.configText)"
                    + " max_idle_connections=\(upstream.maxIdleConnections)"
                    + " idle_connection_timeout=\(upstream.idleConnectionTimeout.configText)"
            )
        }

        lines.append("routes:")
        for route in config.routes {
            let timeouts = route.timeouts
            lines.append(
                "  \(route.match.host) \(route.match.pathPrefix) -> \(route.upstream)"
                    + "  response_header=\(limit(timeouts.responseHeader))"
                    + " idle=\(limit(timeouts.idle))"
                    + " max_lifetime=\(limit(timeouts.maxLifetime))"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// "cleartext", or the TLS default certificate, how many SNI certificates there are and the handshake limit.
    private static func security(_ tls: TLSConfig?) -> String {
        guard let tls else {
            return "cleartext"
        }
        return "tls certificate=\(tls.certificate.certificatePath) sni_certificates=\(tls.sniCertificates.count)"
            + " handshake_timeout=\(tls.handshakeTimeout.configText)"
    }

    /// A timeout where zero means no limit.
    private static func limit(_ duration: Duration) -> String {
        duration == .zero ? "none" : duration.configText
    }
}
