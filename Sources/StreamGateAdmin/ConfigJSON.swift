import Foundation
import StreamGateConfig
import StreamGateProxy

/// `GET /config`: the configuration new connections and streams get (defaults filled in) as JSON, with its
/// generation (1 at start, one more per applied reload) and when it was loaded; the admin token redacted.
enum ConfigJSON {
    static func render(_ generation: ProxyGeneration) -> [UInt8] {
        let config = generation.config
        var admin: [String: Any] = [:]
        if let settings = config.admin {
            admin = [
                "address": "\(settings.address)",
                "token": settings.token == nil ? NSNull() : "<redacted>",
                "public_healthz": settings.publicHealthz,
            ]
        }
        let document: [String: Any] = [
            "generation": generation.number,
            "loaded_at": LogTimestamp.rfc3339(generation.loadedAt),
            "source": config.sourcePath,
            "listeners": config.listeners.map { listener -> [String: Any] in
                [
                    "name": listener.name,
                    "address": "\(listener.address)",
                    "max_connections": listener.maxConnections,
                    "tls": listener.tls.map { tls -> [String: Any] in
                        [
                            "certificate": tls.certificate.certificatePath,
                            "handshake_timeout": tls.handshakeTimeout.configText,
                            "sni_certificates": tls.sniCertificates.count,
                        ]
                    } ?? NSNull(),
                    "http2": [
                        "max_concurrent_streams": listener.http2.maxConcurrentStreams,
                        "initial_window_size": listener.http2.initialWindowSize,
                        "websocket": listener.http2.websocket,
                    ],
                ]
            },
            "admin": config.admin == nil ? NSNull() : admin,
            "log": ["format": config.log.format.rawValue, "level": config.log.level],
            "limits": [
                "max_header_bytes": config.limits.maxHeaderBytes,
                "header_timeout": config.limits.headerTimeout.configText,
                "client_idle_timeout": config.limits.clientIdleTimeout.configText,
                "stream_buffer_bytes": config.limits.streamBufferBytes,
                "slow_consumer_timeout": config.limits.slowConsumerTimeout.configText,
            ],
            "drain": [
                "grace": config.drain.grace.configText,
                "timeout": config.drain.timeout.configText,
                "spread": config.drain.spread.configText,
                "sse_retry": config.drain.sseRetry?.configText ?? "0s",
                "websocket_close_code": config.drain.webSocketCloseCode,
            ],
            "upstreams": config.upstreams.map { upstream -> [String: Any] in
                [
                    "name": upstream.name,
                    "servers": upstream.servers.map(\.description),
                    "connect_timeout": upstream.connectTimeout.configText,
                    "max_connecting": upstream.maxConnecting,
                    "max_idle_connections": upstream.maxIdleConnections,
                    "idle_connection_timeout": upstream.idleConnectionTimeout.configText,
                    "weights": upstream.weights,
                    "balance": upstream.balance.rawValue,
                    "protocol": upstream.protocol.rawValue,
                    "max_streams_per_connection": upstream.maxStreamsPerConnection,
                    "max_fails": upstream.passiveHealth.maxFails,
                    "fail_window": upstream.passiveHealth.failWindow.configText,
                    "eject_for": upstream.passiveHealth.ejectFor.configText,
                    "health_check": upstream.healthCheck.map { check -> Any in
                        [
                            "path": check.path,
                            "interval": check.interval.configText,
                            "timeout": check.timeout.configText,
                            "fall": check.fall,
                            "rise": check.rise,
                        ]
                    } ?? NSNull(),
                    "tls": upstream.tls.map { tls -> Any in
                        [
                            "ca_file": tls.caFile.map { $0 as Any } ?? NSNull(),
                            "server_name": tls.serverName.map { $0 as Any } ?? NSNull(),
                            "verify": tls.verify,
                        ]
                    } ?? NSNull(),
                ]
            },
            "routes": config.routes.map { route -> [String: Any] in
                [
                    "name": route.name ?? NSNull(),
                    "match": ["host": "\(route.match.host)", "path_prefix": route.match.pathPrefix],
                    "upstream": route.upstream,
                    "max_request_body": route.maxRequestBody ?? NSNull(),
                    "timeouts": [
                        "response_header": route.timeouts.responseHeader.configText,
                        "idle": route.timeouts.idle.configText,
                        "max_lifetime": route.timeouts.maxLifetime.configText,
                    ],
                    "sse": [
                        "heartbeat_interval": route.sse.heartbeatInterval.configText,
                        "heartbeat_comment": route.sse.heartbeatComment,
                        "retry": route.sse.retry?.configText ?? NSNull(),
                        "first_byte": route.sse.firstByte.rawValue,
                        "upstream_accept_encoding": route.sse.upstreamAcceptEncoding.rawValue,
                        "resume": route.sse.resume != nil,
                        "resume_attempts": route.sse.resume.map { $0.attempts as Any } ?? NSNull(),
                        "resume_backoff": route.sse.resume.map { $0.backoff.configText as Any } ?? NSNull(),
                        "resume_on_end": route.sse.resume.map { $0.onEnd as Any } ?? NSNull(),
                        "resume_max_event": route.sse.resume.map { $0.maxEventBytes as Any } ?? NSNull(),
                        "shared": route.sse.shared.map { shared -> Any in
                            [
                                "key": shared.key.map(\.text),
                                "replay": shared.replayEvents,
                                "replay_bytes": shared.replayBytes,
                                "idle_close": shared.idleClose.configText,
                                "missed": shared.missed.rawValue,
                                "max_event": shared.maxEventBytes,
                            ] as [String: Any]
                        } ?? NSNull(),
                    ] as [String: Any],
                    "websocket": [
                        "idle_timeout": route.websocket.idleTimeout.configText,
                        "ping_interval": route.websocket.pingInterval.configText,
                        "upstream_ping_interval": route.websocket.upstreamPingInterval.configText,
                        "max_lifetime": route.websocket.maxLifetime.configText,
                        "allowed_origins": route.websocket.allowedOrigins,
                    ] as [String: Any],
                ]
            },
        ]
        let data = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return Array(data ?? Data("{}".utf8))
    }
}
