import XCTest

@testable import StreamGateConfig

final class LoaderTests: XCTestCase {
    func testLoadsTheExample() throws {
        let config = try ConfigLoader.load(yaml: exampleYAML, sourcePath: "conf/example.yaml")
        XCTAssertEqual(config.sourcePath, "conf/example.yaml")
        XCTAssertEqual(
            config.listeners,
            [
                ListenerConfig(
                    name: "plain",
                    address: HostPort(host: "127.0.0.1", port: 8080),
                    http2: HTTP2Config(maxConcurrentStreams: 100, initialWindowSize: 1_048_576),
                    addressLocation: ConfigLocation(keyPath: "listeners[0].address", line: 4)
                )
            ]
        )
        XCTAssertEqual(config.admin, AdminConfig(address: HostPort(host: "127.0.0.1", port: 9901)))
        XCTAssertEqual(
            config.upstreams,
            [
                UpstreamConfig(
                    name: "app",
                    servers: [HostPort(host: "127.0.0.1", port: 3000), HostPort(host: "::1", port: 3001)],
                    connectTimeout: .seconds(2),
                    maxIdleConnections: 8,
                    idleConnectionTimeout: .seconds(90)
                )
            ]
        )
        XCTAssertEqual(
            config.routes,
            [
                RouteConfig(
                    match: RouteMatch(host: .any, pathPrefix: "/events/"),
                    upstream: "app",
                    timeouts: RouteTimeouts(responseHeader: .seconds(10), idle: .seconds(600), maxLifetime: .zero),
                    sse: SSEConfig(
                        heartbeatInterval: .seconds(20),
                        heartbeatComment: "hb",
                        retry: .seconds(3),
                        firstByte: .upstream,
                        upstreamAcceptEncoding: .keep
                    ),
                    sseConfigured: true
                ),
                RouteConfig(
                    match: RouteMatch(host: .any, pathPrefix: "/socket/"),
                    upstream: "app",
                    websocket: WebSocketConfig(
                        idleTimeout: .seconds(300),
                        pingInterval: .zero,
                        upstreamPingInterval: .seconds(60),
                        maxLifetime: .seconds(43_200),
                        allowedOrigins: ["https://app.example", "http://localhost:8080"]
                    )
                ),
                RouteConfig(match: RouteMatch(host: .any, pathPrefix: "/"), upstream: "app"),
            ]
        )
        XCTAssertEqual(config.upstream(named: "app")?.servers.count, 2)
    }

    func testDefaultsApplied() throws {
        let config = try ConfigLoader.load(yaml: minimalYAML, sourcePath: "streamgate.yaml")
        XCTAssertNil(config.admin)
        XCTAssertEqual(config.listeners.first?.http2, HTTP2Config())
        XCTAssertEqual(config.listeners.first?.address.port, 0)
        let upstream = try XCTUnwrap(config.upstreams.first)
        XCTAssertEqual(upstream.connectTimeout, .seconds(5))
        XCTAssertEqual(upstream.maxIdleConnections, 32)
        XCTAssertEqual(upstream.idleConnectionTimeout, .seconds(60))
        XCTAssertEqual(config.routes.first?.timeouts, RouteTimeouts())
        XCTAssertEqual(config.routes.first?.match.host, .any)
        XCTAssertEqual(config.routes.first?.sse, SSEConfig())
        XCTAssertEqual(config.routes.first?.sseConfigured, false)
        XCTAssertEqual(config.routes.first?.websocket, WebSocketConfig())
    }

    func testPartialBlocksKeepOtherDefaults() throws {
        let yaml = """
            version: 1
            listeners:
              - name: plain
                address: localhost:8080
                http2: { initial_window_size: 1000 }
            upstreams:
              - name: app
                servers: [localhost:3000]
            routes:
              - match: { host: Api.Example.COM, path_prefix: /api/ }
                upstream: app
                timeouts: { idle: 30s }
            """
        let config = try ConfigLoader.load(yaml: yaml, sourcePath: "streamgate.yaml")
        XCTAssertEqual(config.listeners.first?.http2, HTTP2Config(maxConcurrentStreams: 256, initialWindowSize: 1000))
        XCTAssertEqual(config.routes.first?.match.host, .exact("api.example.com"))
        XCTAssertEqual(
            config.routes.first?.timeouts,
            RouteTimeouts(responseHeader: .seconds(60), idle: .seconds(30), maxLifetime: .zero)
        )
    }

    func testSeveralListenersOnPortZeroAreNotDuplicates() throws {
        let yaml = minimalYAML.replacingOccurrences(
            of: "listeners:\n",
            with: "listeners:\n  - { name: second, address: 127.0.0.1:0 }\n"
        )
        let config = try ConfigLoader.load(yaml: yaml, sourcePath: "streamgate.yaml")
        XCTAssertEqual(config.listeners.map(\.name), ["second", "plain"])
    }

    func testBundledConfigurationLoads() throws {
        let testFile = URL(fileURLWithPath: #filePath)
        let root = testFile.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("conf/streamgate.yaml").path
        let config = try ConfigLoader.load(path: path)
        XCTAssertEqual(config.listeners.map(\.name), ["plain"])
        XCTAssertEqual(config.listeners.first?.address, HostPort(host: "127.0.0.1", port: 8080))
        XCTAssertEqual(config.admin?.address, HostPort(host: "127.0.0.1", port: 9901))
        XCTAssertEqual(config.upstreams.map(\.name), ["app"])
        XCTAssertEqual(config.upstreams.first?.servers, [HostPort(host: "127.0.0.1", port: 3000)])
        XCTAssertEqual(config.upstreams.first?.connectTimeout, .seconds(2))
        XCTAssertEqual(config.routes.map(\.match.pathPrefix), ["/events/", "/"])
        let events = try XCTUnwrap(config.routes.first)
        XCTAssertGreaterThan(events.timeouts.idle, RouteTimeouts().idle)
        XCTAssertEqual(events.timeouts.maxLifetime, .zero)
        XCTAssertTrue(events.sseConfigured)
        XCTAssertEqual(events.sse, SSEConfig(retry: .seconds(3)))
        XCTAssertEqual(events.websocket, WebSocketConfig())
        let fallback = try XCTUnwrap(config.routes.last)
        XCTAssertFalse(fallback.sseConfigured)
        XCTAssertEqual(fallback.sse, SSEConfig())
        XCTAssertNil(fallback.maxRequestBody)
        // The limits written out in the file are the defaults they document.
        XCTAssertEqual(config.limits, LimitsConfig())
        XCTAssertEqual(config.listeners.first?.maxConnections, ListenerConfig.defaultMaxConnections)
        XCTAssertEqual(config.upstreams.first?.balance, .roundRobin)
        XCTAssertEqual(config.upstreams.first?.passiveHealth, PassiveHealthConfig())
    }

    /// The commented-out health check in the bundled file is valid once uncommented, and spells the defaults.
    func testBundledHealthCheckExampleLoadsWhenUncommented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let bundled = try String(contentsOf: root.appendingPathComponent("conf/streamgate.yaml"), encoding: .utf8)
        let text = bundled.replacingOccurrences(of: "    # health_check: {", with: "    health_check: {")
        XCTAssertNotEqual(text, bundled, "the example is gone from conf/streamgate.yaml")
        let config = try ConfigLoader.load(yaml: text, sourcePath: "conf/streamgate.yaml")
        XCTAssertEqual(config.upstreams.first?.healthCheck, HealthCheckConfig())
    }

    /// The commented-out failover keys of the bundled file are valid once uncommented, and mean the defaults.
    func testBundledResumeExampleLoadsWhenUncommented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let bundled = try String(contentsOf: root.appendingPathComponent("conf/streamgate.yaml"), encoding: .utf8)
        var text = bundled
        for key in ["resume", "resume_attempts", "resume_backoff", "resume_on_end", "resume_max_event"] {
            text = text.replacingOccurrences(of: "      # \(key):", with: "      \(key):")
        }
        XCTAssertEqual(text.components(separatedBy: "\n      resume").count - 1, 5, "the failover keys are gone")
        let config = try ConfigLoader.load(yaml: text, sourcePath: "conf/streamgate.yaml")
        XCTAssertEqual(config.routes.first?.sse.resume, SSEResumeConfig())
    }

    /// The commented-out shared-subscription block of the bundled file is valid once uncommented, and means the
    /// defaults.
    func testBundledSharedExampleLoadsWhenUncommented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let bundled = try String(contentsOf: root.appendingPathComponent("conf/streamgate.yaml"), encoding: .utf8)
        var text = bundled.replacingOccurrences(of: "      # shared:", with: "      shared:")
        for key in ["key", "replay", "replay_bytes", "idle_close", "missed", "max_event"] {
            text = text.replacingOccurrences(of: "      #   \(key):", with: "        \(key):")
        }
        for key in ["shared", "key", "replay", "replay_bytes", "idle_close", "missed", "max_event"] {
            XCTAssertTrue(text.contains("\n      \(key == "shared" ? "" : "  ")\(key):"), "\(key) is gone from the example")
        }
        let config = try ConfigLoader.load(yaml: text, sourcePath: "conf/streamgate.yaml")
        XCTAssertEqual(config.routes.first?.sse.shared, SSESharedConfig())
    }

    /// The commented-out WebSocket route in the bundled file is valid once uncommented.
    func testBundledWebSocketExampleLoadsWhenUncommented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let bundled = try String(contentsOf: root.appendingPathComponent("conf/streamgate.yaml"), encoding: .utf8)
        let lines = bundled.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  # - match: { path_prefix: /socket/ }") })
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix("  #   ") {
            end += 1
        }
        let example = lines[start..<end].map { "  " + $0.dropFirst(4) }.joined(separator: "\n")
        let text = bundled.replacingOccurrences(of: "routes:\n", with: "routes:\n\(example)\n")
        let config = try ConfigLoader.load(yaml: text, sourcePath: "conf/streamgate.yaml")
        let socket = try XCTUnwrap(config.routes.first)
        XCTAssertEqual(socket.match.pathPrefix, "/socket/")
        let origins = ["https://app.example", "http://localhost:8080"]
        XCTAssertEqual(socket.websocket, WebSocketConfig(allowedOrigins: origins))
        XCTAssertFalse(socket.sseConfigured)
        XCTAssertEqual(config.routes.map(\.match.pathPrefix), ["/socket/", "/events/", "/"])
    }

    func testUnreadableFile() {
        let path = "/nonexistent/streamgate.yaml"
        XCTAssertThrowsError(try ConfigLoader.load(path: path)) { error in
            guard let errors = error as? ConfigErrors else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(
                errors.errors,
                [ConfigError(file: path, line: nil, keyPath: "", message: "cannot read file: no such file")]
            )
            XCTAssertEqual(errors.description, "/nonexistent/streamgate.yaml: cannot read file: no such file")
        }
    }

    func testDirectoryIsUnreadable() {
        let path = NSTemporaryDirectory()
        XCTAssertThrowsError(try ConfigLoader.load(path: path)) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.first?.message, "cannot read file: is a directory")
        }
    }

    func testLoadsFromFileWithPathInMessages() throws {
        let path = NSTemporaryDirectory() + "streamgate-config-test-\(UUID().uuidString).yaml"
        try minimalYAML.replacingOccurrences(of: "upstream: app", with: "upstream: ap")
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try ConfigLoader.load(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path):10: routes[0].upstream: no upstream named \"ap\"")
        }
    }

    func testResolvePath() {
        XCTAssertEqual(ConfigLoader.resolvePath("certs/a.pem", relativeTo: "/etc/streamgate/sg.yaml"),
                       "/etc/streamgate/certs/a.pem")
        XCTAssertEqual(ConfigLoader.resolvePath("a.pem", relativeTo: "conf/sg.yaml"), "conf/a.pem")
        XCTAssertEqual(ConfigLoader.resolvePath("/abs/a.pem", relativeTo: "conf/sg.yaml"), "/abs/a.pem")
        XCTAssertEqual(ConfigLoader.resolvePath("a.pem", relativeTo: "sg.yaml"), "a.pem")
    }

    func testSummary() throws {
        let config = try ConfigLoader.load(yaml: exampleYAML, sourcePath: "conf/example.yaml")
        XCTAssertEqual(
            ConfigSummary.render(config),
            """
            configuration: conf/example.yaml
            listeners:
              plain  127.0.0.1:8080  cleartext  h2 max_concurrent_streams=100 initial_window_size=1048576 websocket=on
            admin: 127.0.0.1:9901
            upstreams:
              app  [127.0.0.1:3000, [::1]:3001]  balance=round_robin protocol=http1 connect_timeout=2s max_connecting=64 max_idle_connections=8 idle_connection_timeout=1m30s max_fails=1/10s eject_for=10s
            routes:
              * /events/ -> app  response_header=10s idle=10m max_lifetime=none
                sse  heartbeat_interval=20s heartbeat_comment="hb" retry=3s first_byte=upstream \
            upstream_accept_encoding=keep
              * /socket/ -> app  response_header=1m idle=10m max_lifetime=none
                websocket  idle_timeout=5m ping_interval=off upstream_ping_interval=1m max_lifetime=12h \
            allowed_origins=https://app.example,http://localhost:8080
              * / -> app  response_header=1m idle=10m max_lifetime=none
            """
        )
    }
}
