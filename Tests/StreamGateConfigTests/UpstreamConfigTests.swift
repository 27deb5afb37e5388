import XCTest

@testable import StreamGateConfig

/// `upstreams[]`: servers as addresses or `{ address, weight }`, `balance`, passive health (`max_fails`,
/// `fail_window`, `eject_for`) and `health_check`: defaults, every key, and each bad value at its key and line.
final class UpstreamConfigTests: XCTestCase {
    private func load(_ upstream: String) throws(ConfigErrors) -> UpstreamConfig? {
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: 127.0.0.1:0 }
            upstreams:
              - \(upstream)
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        return try ConfigLoader.load(yaml: yaml, sourcePath: "conf/upstreams.yaml").upstreams.first
    }

    func testDefaultsAreNginxLike() throws {
        let upstream = try XCTUnwrap(try load("{ name: app, servers: [127.0.0.1:3000, 127.0.0.1:3001] }"))
        XCTAssertEqual(upstream.weights, [1, 1])
        XCTAssertEqual(upstream.balance, .roundRobin)
        XCTAssertEqual(upstream.passiveHealth, PassiveHealthConfig(maxFails: 1, failWindow: .seconds(10), ejectFor: .seconds(10)))
        XCTAssertNil(upstream.healthCheck)
        XCTAssertEqual(upstream.protocol, .http1)
        XCTAssertEqual(upstream.maxStreamsPerConnection, 100)
    }

    func testMultiplexedProtocolKeys() throws {
        let upstream = try XCTUnwrap(
            try load("{ name: app, servers: [127.0.0.1:3000], protocol: h2c, max_streams_per_connection: 250 }")
        )
        XCTAssertEqual(upstream.protocol, .h2c)
        XCTAssertEqual(upstream.maxStreamsPerConnection, 250)
        XCTAssertEqual(try load("{ name: app, servers: [127.0.0.1:3000], protocol: http1 }")?.protocol, .http1)
    }

    func testMaxConnecting() throws {
        XCTAssertEqual(try load("{ name: app, servers: [127.0.0.1:3000] }")?.maxConnecting, 64)
        XCTAssertEqual(try load("{ name: app, servers: [127.0.0.1:3000], max_connecting: 1 }")?.maxConnecting, 1)
        XCTAssertEqual(try load("{ name: app, servers: [127.0.0.1:3000], max_connecting: 100000 }")?.maxConnecting, 100_000)
    }

    func testTLSKeys() throws {
        let h2 = try XCTUnwrap(try load("{ name: app, servers: [origin.internal:8443], protocol: h2 }"))
        XCTAssertEqual(h2.protocol, .h2)
        XCTAssertTrue(h2.protocol.isMultiplexed)
        XCTAssertEqual(h2.tls, UpstreamTLSConfig(caFile: nil, serverName: nil, verify: true), "h2 is verified TLS by default")
        XCTAssertNil(try load("{ name: app, servers: [127.0.0.1:3000] }")?.tls, "http1 stays cleartext without a tls block")
        XCTAssertNil(try load("{ name: app, servers: [127.0.0.1:3000], protocol: h2c }")?.tls)

        let caFile = NSTemporaryDirectory() + "streamgate-ca-\(UUID().uuidString).pem"
        try "not checked until load".write(toFile: caFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: caFile) }
        let https = try XCTUnwrap(
            try load("{ name: app, servers: [10.0.0.5:443], tls: { ca_file: \(caFile), server_name: app.internal, verify: false } }")
        )
        XCTAssertEqual(https.protocol, .http1)
        XCTAssertEqual(https.tls?.caFile, caFile)
        XCTAssertEqual(https.tls?.caFileLocation?.line, 5)
        XCTAssertEqual(https.tls?.serverName, "app.internal")
        XCTAssertEqual(https.tls?.verify, false)
    }

    func testEveryKey() throws {
        let upstream = try XCTUnwrap(
            try load(
                """
                { name: app, balance: least_streams, max_fails: 3, fail_window: 30s, eject_for: 1m,
                    servers: [{ address: 127.0.0.1:3000, weight: 5 }, 127.0.0.1:3001, { address: "[::1]:3002" }],
                    health_check: { path: /ready, interval: 2s, timeout: 500ms, fall: 1, rise: 4 } }
                """
            )
        )
        XCTAssertEqual(upstream.servers.map(\.description), ["127.0.0.1:3000", "127.0.0.1:3001", "[::1]:3002"])
        XCTAssertEqual(upstream.weights, [5, 1, 1])
        XCTAssertEqual(upstream.balance, .leastStreams)
        XCTAssertEqual(upstream.passiveHealth, PassiveHealthConfig(maxFails: 3, failWindow: .seconds(30), ejectFor: .seconds(60)))
        XCTAssertEqual(
            upstream.healthCheck,
            HealthCheckConfig(path: "/ready", interval: .seconds(2), timeout: .milliseconds(500), fall: 1, rise: 4)
        )
        XCTAssertEqual(try load("{ name: app, servers: [127.0.0.1:3000], health_check: {} }")?.healthCheck, HealthCheckConfig())
        XCTAssertEqual(try load("{ name: app, servers: [127.0.0.1:3000], max_fails: 0 }")?.passiveHealth.maxFails, 0)
    }

    func testBadValuesAreErrorsAtTheirKeys() {
        let server = "servers: [127.0.0.1:3000]"
        for (upstream, key, message) in [
            ("{ name: app, \(server), balance: random }", "upstreams[0].balance", "invalid value \"random\" (expected one of: round_robin, least_streams)"),
            ("{ name: app, servers: [{ address: 127.0.0.1:3000, weight: 0 }] }", "upstreams[0].servers[0].weight", "must be in 1...1000 (got 0)"),
            ("{ name: app, servers: [{ address: 127.0.0.1:3000, weight: heavy }] }", "upstreams[0].servers[0].weight", "expected an integer"),
            ("{ name: app, servers: [{ weight: 2 }] }", "upstreams[0].servers[0].address", "required key is missing"),
            ("{ name: app, servers: [{ address: 127.0.0.1:3000, wieght: 2 }] }", "upstreams[0].servers[0].wieght", "unknown key (expected one of: address, weight)"),
            ("{ name: app, servers: [{ address: 127.0.0.1 }] }", "upstreams[0].servers[0].address", "port"),
            ("{ name: app, servers: [[127.0.0.1:3000]] }", "upstreams[0].servers[0]", "expected an address or a mapping with address and weight, found a list"),
            ("{ name: app, servers: [127.0.0.1:3000, { address: 127.0.0.1:3000 }] }", "upstreams[0].servers[1].address", "duplicate server 127.0.0.1:3000"),
            ("{ name: app, \(server), max_fails: -1 }", "upstreams[0].max_fails", "must be in 0...1000 (got -1)"),
            ("{ name: app, \(server), fail_window: 0s }", "upstreams[0].fail_window", "must be greater than 0s"),
            ("{ name: app, \(server), eject_for: later }", "upstreams[0].eject_for", "invalid duration \"later\""),
            ("{ name: app, \(server), health_check: { path: healthz } }", "upstreams[0].health_check.path", "must be an absolute path without spaces"),
            ("{ name: app, \(server), health_check: { path: \"/a b\" } }", "upstreams[0].health_check.path", "must be an absolute path without spaces"),
            ("{ name: app, \(server), health_check: { interval: 1s, timeout: 1s } }", "upstreams[0].health_check.timeout", "must be shorter than health_check.interval (1s)"),
            ("{ name: app, \(server), health_check: { interval: 0s } }", "upstreams[0].health_check.interval", "must be greater than 0s"),
            ("{ name: app, \(server), health_check: { fall: 0 } }", "upstreams[0].health_check.fall", "must be in 1...100 (got 0)"),
            ("{ name: app, \(server), health_check: { rise: 101 } }", "upstreams[0].health_check.rise", "must be in 1...100 (got 101)"),
            ("{ name: app, \(server), health_check: { method: HEAD } }", "upstreams[0].health_check.method", "unknown key (expected one of: path, interval, timeout, fall, rise)"),
            ("{ name: app, \(server), protocol: http3 }", "upstreams[0].protocol", "invalid value \"http3\" (expected one of: http1, h2c, h2)"),
            ("{ name: app, \(server), protocol: [h2c] }", "upstreams[0].protocol", "expected"),
            ("{ name: app, \(server), protocol: h2c, max_streams_per_connection: 0 }", "upstreams[0].max_streams_per_connection", "must be in 1...10000 (got 0)"),
            ("{ name: app, \(server), max_streams_per_connection: many }", "upstreams[0].max_streams_per_connection", "expected an integer"),
            ("{ name: app, \(server), max_connecting: 0 }", "upstreams[0].max_connecting", "must be in 1...100000 (got 0)"),
            ("{ name: app, \(server), max_connecting: 100001 }", "upstreams[0].max_connecting", "must be in 1...100000 (got 100001)"),
            ("{ name: app, \(server), max_connecting: -3 }", "upstreams[0].max_connecting", "must be in 1...100000 (got -3)"),
            ("{ name: app, \(server), max_connecting: [8] }", "upstreams[0].max_connecting", "expected an integer, found a list"),
            ("{ name: app, \(server), health_check: yes }", "upstreams[0].health_check", "expected a mapping"),
            ("{ name: app, \(server), protocol: h2c, tls: {} }", "upstreams[0].tls", "h2c is HTTP/2 over cleartext; for HTTP/2 over TLS use protocol: h2"),
            ("{ name: app, \(server), protocol: h2, tls: { ca_file: no-such-ca.pem } }", "upstreams[0].tls.ca_file", "cannot read \"conf/no-such-ca.pem\""),
            ("{ name: app, \(server), protocol: h2, tls: { ca_file: \"\" } }", "upstreams[0].tls.ca_file", "must not be empty"),
            ("{ name: app, \(server), protocol: h2, tls: { server_name: \"a b\" } }", "upstreams[0].tls.server_name", "must be a host name or IP address (got \"a b\")"),
            ("{ name: app, \(server), protocol: h2, tls: { server_name: \"\" } }", "upstreams[0].tls.server_name", "must be a host name or IP address"),
            ("{ name: app, \(server), protocol: h2, tls: { verify: maybe } }", "upstreams[0].tls.verify", "expected true or false, found \"maybe\""),
            ("{ name: app, \(server), protocol: h2, tls: { sni: x } }", "upstreams[0].tls.sni", "unknown key (expected one of: ca_file, server_name, verify)"),
            ("{ name: app, \(server), protocol: h2, tls: yes }", "upstreams[0].tls", "expected a mapping"),
        ] {
            XCTAssertThrowsError(try load(upstream), key) { error in
                let errors = (error as? ConfigErrors)?.errors ?? []
                XCTAssertEqual(errors.map(\.keyPath), [key], "\(upstream): \(errors)")
                XCTAssertTrue(errors.first?.message.contains(message) ?? false, "\(key): \(errors)")
                XCTAssertEqual(errors.first?.line, 5, "\(key): \(errors)")
            }
        }
    }
}
