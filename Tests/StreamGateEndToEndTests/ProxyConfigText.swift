/// YAML configurations for the proxy under test: one listener `plain` on 127.0.0.1:0, one upstream `app`.
enum ProxyConfigText {
    /// One route of the generated config.
    struct Route {
        var pathPrefix: String
        /// The flow mapping after `timeouts:`, e.g. `{ idle: 1s }`; nil leaves the defaults.
        var timeouts: String?

        init(_ pathPrefix: String, timeouts: String? = nil) {
            self.pathPrefix = pathPrefix
            self.timeouts = timeouts
        }
    }

    /// Listener `plain`, upstream `app` with `servers` on 127.0.0.1, and `routes` (default: everything to `app`).
    static func yaml(upstreamPorts: [Int], routes: [Route] = [Route("/")]) -> String {
        let servers = upstreamPorts.map { "127.0.0.1:\($0)" }.joined(separator: ", ")
        var text = """
            version: 1
            listeners:
              - name: plain
                address: 127.0.0.1:0
            upstreams:
              - name: app
                servers: [\(servers)]
                connect_timeout: 2s
            routes:

            """
        for route in routes {
            text += "  - match: { path_prefix: \(route.pathPrefix) }\n"
            text += "    upstream: app\n"
            if let timeouts = route.timeouts {
                text += "    timeouts: \(timeouts)\n"
            }
        }
        return text
    }
}
