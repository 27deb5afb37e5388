/// The proxy configuration of the event-stream feed tests (stream resume and shared subscriptions): listener
/// `plain`, an admin endpoint, upstream `app` with its servers on 127.0.0.1 (plus extra lines for the upstream, e.g.
/// `max_fails: 0`), and one route per feed, named like the path prefix it matches (`/<name>`), with its `sse:` block.
enum FeedProxyConfig {
    /// One feed route: `name` is also its path prefix; `sse` is the flow mapping after `sse:`.
    struct Route {
        var name: String
        var sse: String

        init(_ name: String, sse: String) {
            self.name = name
            self.sse = sse
        }
    }

    static func yaml(servers: [Int], routes: [Route], upstream: [String] = []) -> String {
        var yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0" }
            admin: { address: "127.0.0.1:0" }
            upstreams:
              - name: app
                servers: [\(servers.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", "))]
                connect_timeout: 1s

            """
        for line in upstream {
            yaml += "    \(line)\n"
        }
        yaml += "routes:\n"
        for route in routes {
            yaml += """
                  - name: \(route.name)
                    match: { path_prefix: /\(route.name) }
                    upstream: app
                    sse: \(route.sse)

                """
        }
        return yaml
    }
}

/// `values` as runs of consecutive numbers, for messages: `1-23, 23-80`.
func consecutiveRuns(_ values: [Int]) -> String {
    var runs: [(Int, Int)] = []
    for value in values {
        if let last = runs.last, value == last.1 + 1 {
            runs[runs.count - 1].1 = value
        } else {
            runs.append((value, value))
        }
    }
    return runs.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)-\($0.1)" }.joined(separator: ", ")
}
