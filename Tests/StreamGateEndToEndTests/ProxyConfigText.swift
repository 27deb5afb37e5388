/// YAML configurations for the proxy under test: listeners on 127.0.0.1:0 (`plain` by default), one upstream `app`.
enum ProxyConfigText {
    /// One route of the generated config.
    struct Route {
        var pathPrefix: String
        /// The flow mapping after `timeouts:`, e.g. `{ idle: 1s }`; nil leaves the defaults.
        var timeouts: String?
        /// The flow mapping after `sse:`, e.g. `{ heartbeat_interval: 1s }`; nil: no `sse` block on the route.
        var sse: String?
        /// The flow mapping after `websocket:`, e.g. `{ ping_interval: 1s }`; nil: no `websocket` block on the route.
        var websocket: String?

        init(_ pathPrefix: String, timeouts: String? = nil, sse: String? = nil, websocket: String? = nil) {
            self.pathPrefix = pathPrefix
            self.timeouts = timeouts
            self.sse = sse
            self.websocket = websocket
        }
    }

    /// One listener on 127.0.0.1:0 (`plain` by default): cleartext, or TLS when `tls` is set.
    struct Listener {
        var name: String
        var tls: TLS?
        /// The flow mapping after `http2:`, e.g. `{ max_concurrent_streams: 300 }`; nil leaves the defaults.
        var http2: String?

        init(_ name: String = "plain", tls: TLS? = nil, http2: String? = nil) {
            self.name = name
            self.tls = tls
            self.http2 = http2
        }

        static let plain = Listener()
    }

    /// A listener's `tls` block: the default certificate, more chosen by SNI, and the handshake timeout.
    struct TLS {
        /// One entry of `certificates`.
        struct SNICertificate {
            var certificate: String
            var privateKey: String
            var serverNames: [String]
        }

        var certificate: String
        var privateKey: String
        var handshakeTimeout: String?
        var certificates: [SNICertificate] = []
    }

    /// `listeners` (default: `plain`), upstream `app` with `servers` on 127.0.0.1 and the `upstreamKeys` lines (e.g.
    /// `protocol: h2c`), and `routes` (default: everything to `app`).
    static func yaml(
        upstreamPorts: [Int],
        routes: [Route] = [Route("/")],
        listeners: [Listener] = [.plain],
        upstreamKeys: [String] = []
    ) -> String {
        let servers = upstreamPorts.map { "127.0.0.1:\($0)" }.joined(separator: ", ")
        var text = "version: 1\nlisteners:\n" + listeners.map(listenerText).joined()
        text += """
            upstreams:
              - name: app
                servers: [\(servers)]
                connect_timeout: 2s

            """
        for key in upstreamKeys {
            text += "    \(key)\n"
        }
        text += "routes:\n"
        for route in routes {
            text += "  - match: { path_prefix: \(route.pathPrefix) }\n"
            text += "    upstream: app\n"
            if let timeouts = route.timeouts {
                text += "    timeouts: \(timeouts)\n"
            }
            if let sse = route.sse {
                text += "    sse: \(sse)\n"
            }
            if let websocket = route.websocket {
                text += "    websocket: \(websocket)\n"
            }
        }
        return text
    }

    private static func listenerText(_ listener: Listener) -> String {
        var text = "  - name: \(listener.name)\n    address: 127.0.0.1:0\n"
        if let tls = listener.tls {
            text += "    tls:\n      certificate: \(tls.certificate)\n      private_key: \(tls.privateKey)\n"
            if let timeout = tls.handshakeTimeout {
                text += "      handshake_timeout: \(timeout)\n"
            }
            if !tls.certificates.isEmpty {
                text += "      certificates:\n"
                for entry in tls.certificates {
                    text += "        - certificate: \(entry.certificate)\n"
                    text += "          private_key: \(entry.privateKey)\n"
                    text += "          server_names: [\(entry.serverNames.joined(separator: ", "))]\n"
                }
            }
        }
        if let http2 = listener.http2 {
            text += "    http2: \(http2)\n"
        }
        return text
    }
}
