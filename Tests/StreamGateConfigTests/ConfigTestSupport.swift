import XCTest

@testable import StreamGateConfig

/// The example from the configuration docs: every section, every key.
let exampleYAML = """
    version: 1
    listeners:
      - name: plain
        address: 127.0.0.1:8080
        http2: { max_concurrent_streams: 100, initial_window_size: 1048576 }
    admin:
      address: 127.0.0.1:9901
    upstreams:
      - name: app
        servers: [127.0.0.1:3000, "[::1]:3001"]
        connect_timeout: 2s
        max_idle_connections: 8
        idle_connection_timeout: 90s
    routes:
      - match: { host: "*", path_prefix: /events/ }
        upstream: app
        timeouts: { response_header: 10s, idle: 10m, max_lifetime: 0s }
        sse:
          heartbeat_interval: 20s
          heartbeat_comment: hb
          retry: 3s
          first_byte: upstream
          upstream_accept_encoding: keep
      - match: { path_prefix: /socket/ }
        upstream: app
        websocket:
          idle_timeout: 5m
          ping_interval: 0s
          upstream_ping_interval: 1m
          max_lifetime: 12h
          allowed_origins: [https://app.example, "http://localhost:8080"]
      - match: { path_prefix: / }
        upstream: app
    """

/// A minimal valid document, for tests that add one mistake to it.
let minimalYAML = """
    version: 1
    listeners:
      - name: plain
        address: 127.0.0.1:0
    upstreams:
      - name: app
        servers: [127.0.0.1:3000]
    routes:
      - match: { path_prefix: / }
        upstream: app
    """

/// The error lines loading `yaml` produces, or a failure if it loads.
func loadErrors(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    do {
        _ = try ConfigLoader.load(yaml: yaml, sourcePath: "streamgate.yaml")
        XCTFail("expected the configuration to be rejected", file: file, line: line)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// Asserts that loading `yaml` fails with exactly `expected`, in order.
func assertErrors(_ yaml: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(loadErrors(yaml, file: file, line: line), expected, file: file, line: line)
}
