import XCTest

@testable import StreamGateConfig

final class ErrorReportingTests: XCTestCase {
    func testUnknownKeyAtTopLevel() {
        assertErrors(
            minimalYAML + "\nlisteners_extra: 1",
            [#"streamgate.yaml:11: listeners_extra: unknown key (expected one of: version, listeners, admin, "#
                + #"upstreams, routes, log, drain, limits, access_log)"#]
        )
    }

    func testUnknownKeyInListener() {
        let yaml = minimalYAML.replacingOccurrences(of: "    address: 127.0.0.1:0", with: "    adress: 127.0.0.1:0")
        assertErrors(yaml, [
            "streamgate.yaml:3: listeners[0].address: required key is missing",
            "streamgate.yaml:4: listeners[0].adress: unknown key (expected one of: name, address, tls, http2, max_connections)",
        ])
    }

    func testUnknownKeysDeepInside() {
        let yaml = """
            version: 1
            listeners:
              - name: plain
                address: 127.0.0.1:0
                http2: { max_streams: 10 }
            admin: { address: 127.0.0.1:9901, port: 1 }
            upstreams:
              - name: app
                servers: [127.0.0.1:3000]
                timeout: 1s
            routes:
              - match: { path_prefix: /, method: GET }
                upstream: app
                timeouts:
                  idle_timeout: 5s
            """
        assertErrors(yaml, [
            "streamgate.yaml:5: listeners[0].http2.max_streams: unknown key (expected one of: "
                + "max_concurrent_streams, initial_window_size, websocket)",
            "streamgate.yaml:6: admin.port: unknown key (expected one of: address, token, token_file, public_healthz)",
            "streamgate.yaml:10: upstreams[0].timeout: unknown key (expected one of: name, servers, balance, "
                + "protocol, max_streams_per_connection, connect_timeout, max_connecting, max_idle_connections, idle_connection_timeout, max_fails, fail_window, eject_for, "
                + "health_check, tls)",
            "streamgate.yaml:12: routes[0].match.method: unknown key (expected one of: host, path_prefix)",
            "streamgate.yaml:15: routes[0].timeouts.idle_timeout: unknown key (expected one of: response_header, "
                + "idle, max_lifetime)",
        ])
    }

    func testMissingUpstream() {
        let yaml = minimalYAML.replacingOccurrences(of: "upstream: app", with: "upstream: ap")
        assertErrors(yaml, [#"streamgate.yaml:10: routes[0].upstream: no upstream named "ap""#])
    }

    func testDuplicateNames() {
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: 127.0.0.1:8080 }
              - { name: plain, address: 127.0.0.1:8081 }
            upstreams:
              - { name: app, servers: [127.0.0.1:3000] }
              - { name: app, servers: [127.0.0.1:3001] }
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        assertErrors(yaml, [
            #"streamgate.yaml:4: listeners[1].name: duplicate name "plain" (already used by listeners[0])"#,
            #"streamgate.yaml:7: upstreams[1].name: duplicate name "app" (already used by upstreams[0])"#,
        ])
    }

    func testEmptyName() {
        let yaml = minimalYAML.replacingOccurrences(of: "name: plain", with: "name: \"\"")
        assertErrors(yaml, ["streamgate.yaml:3: listeners[0].name: must not be empty"])
    }

    func testDuplicateAddresses() {
        let yaml = """
            version: 1
            listeners:
              - { name: a, address: 127.0.0.1:8080 }
              - { name: b, address: 127.0.0.1:8080 }
            admin:
              address: 127.0.0.1:8080
            upstreams:
              - { name: app, servers: [127.0.0.1:3000] }
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        assertErrors(yaml, [
            "streamgate.yaml:4: listeners[1].address: address 127.0.0.1:8080 is already used by listeners[0]",
            "streamgate.yaml:6: admin.address: address 127.0.0.1:8080 is already used by listeners[0]",
        ])
    }

    func testDuplicateRoutes() {
        let yaml = minimalYAML + """

              - match: { host: "*", path_prefix: / }
                upstream: app
              - match: { host: "*.Example.com", path_prefix: /a }
                upstream: app
              - match: { host: "*.example.com", path_prefix: /a }
                upstream: app
            """
        assertErrors(yaml, [
            #"streamgate.yaml:11: routes[1].match: duplicate route for host "*" and path_prefix "/" (already used "#
                + #"by routes[0])"#,
            #"streamgate.yaml:15: routes[3].match: duplicate route for host "*.example.com" and path_prefix "/a" "#
                + #"(already used by routes[2])"#,
        ])
    }

    func testBadDuration() {
        let yaml = minimalYAML + """

                timeouts: { response_header: 15, idle: 10 minutes, max_lifetime: -1s }
            """
        assertErrors(yaml, [
            #"streamgate.yaml:11: routes[0].timeouts.response_header: invalid duration "15" "#
                + "(use e.g. 250ms, 15s, 5m, 1h)",
            #"streamgate.yaml:11: routes[0].timeouts.idle: invalid duration "10 minutes" "#
                + "(use e.g. 250ms, 15s, 5m, 1h)",
            #"streamgate.yaml:11: routes[0].timeouts.max_lifetime: invalid duration "-1s" "#
                + "(use e.g. 250ms, 15s, 5m, 1h)",
        ])
    }

    func testUpstreamDurations() {
        let yaml = minimalYAML.replacingOccurrences(
            of: "    servers: [127.0.0.1:3000]",
            with: "    servers: [127.0.0.1:3000]\n    connect_timeout: 0s\n    idle_connection_timeout: 1d"
        )
        assertErrors(yaml, [
            "streamgate.yaml:8: upstreams[0].connect_timeout: must be greater than 0s",
            #"streamgate.yaml:9: upstreams[0].idle_connection_timeout: invalid duration "1d" "#
                + "(use e.g. 250ms, 15s, 5m, 1h)",
        ])
    }

    func testBadAddresses() {
        let yaml = """
            version: 1
            listeners:
              - { name: a, address: localhost }
              - { name: b, address: ":8080" }
              - { name: c, address: "[::1]" }
              - { name: d, address: "exa mple:80" }
            admin: { address: "[::1:9901" }
            upstreams:
              - name: app
                servers:
                  - 127.0.0.1:3000
                  - "[example.com]:80"
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        assertErrors(yaml, [
            #"streamgate.yaml:3: listeners[0].address: invalid address "localhost": missing port (expected "#
                + #"host:port, e.g. 127.0.0.1:8080)"#,
            #"streamgate.yaml:4: listeners[1].address: invalid address ":8080": missing host (expected host:port, "#
                + #"e.g. 127.0.0.1:8080)"#,
            #"streamgate.yaml:5: listeners[2].address: invalid address "[::1]": missing port (expected [v6]:port, "#
                + #"e.g. [::1]:8080)"#,
            #"streamgate.yaml:6: listeners[3].address: invalid address "exa mple:80": invalid character " " in host"#,
            #"streamgate.yaml:7: admin.address: invalid address "[::1:9901": missing "]" after the IPv6 address"#,
            #"streamgate.yaml:12: upstreams[0].servers[1]: invalid address "[example.com]:80": "example.com" is not "#
                + #"an IPv6 address"#,
        ])
    }

    func testBadPorts() {
        let yaml = """
            version: 1
            listeners:
              - { name: a, address: 127.0.0.1:65536 }
              - { name: b, address: "127.0.0.1:http" }
              - { name: c, address: "127.0.0.1:" }
            upstreams:
              - { name: app, servers: [127.0.0.1:0] }
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        assertErrors(yaml, [
            #"streamgate.yaml:3: listeners[0].address: invalid address "127.0.0.1:65536": port must be a number in "#
                + #"0...65535"#,
            #"streamgate.yaml:4: listeners[1].address: invalid address "127.0.0.1:http": port must be a number in "#
                + #"0...65535"#,
            #"streamgate.yaml:5: listeners[2].address: invalid address "127.0.0.1:": missing port"#,
            #"streamgate.yaml:7: upstreams[0].servers[0]: invalid address "127.0.0.1:0": port must be a number in "#
                + #"1...65535"#,
        ])
    }

    func testIPv6WithoutBrackets() {
        let yaml = minimalYAML.replacingOccurrences(of: "127.0.0.1:0", with: "::1:8080")
        assertErrors(yaml, [
            #"streamgate.yaml:4: listeners[0].address: invalid address "::1:8080": IPv6 addresses must be in "#
                + #"brackets, e.g. [::1]:8080"#,
        ])
    }

    func testVersionMissing() {
        let yaml = minimalYAML.replacingOccurrences(of: "version: 1\n", with: "")
        assertErrors(yaml, ["streamgate.yaml:1: version: required key is missing (expected 1)"])
    }

    func testVersionWrong() {
        let yaml = minimalYAML.replacingOccurrences(of: "version: 1", with: "version: 2")
        assertErrors(yaml, ["streamgate.yaml:1: version: unsupported version 2 (expected 1)"])
    }

    func testTypeMismatches() {
        let yaml = """
            version: one
            listeners:
              - name: plain
                address: 127.0.0.1:0
                http2: { max_concurrent_streams: many }
              - just-a-string
            upstreams:
              - name: app
                servers: 127.0.0.1:3000
                max_idle_connections: [1]
            routes:
              - match: /
                upstream: { name: app }
            """
        assertErrors(yaml, [
            #"streamgate.yaml:1: version: expected an integer, found "one""#,
            #"streamgate.yaml:5: listeners[0].http2.max_concurrent_streams: expected an integer, found "many""#,
            #"streamgate.yaml:6: listeners[1]: expected a mapping, found "just-a-string""#,
            #"streamgate.yaml:9: upstreams[0].servers: expected a list, found "127.0.0.1:3000""#,
            "streamgate.yaml:10: upstreams[0].max_idle_connections: expected an integer, found a list",
            #"streamgate.yaml:12: routes[0].match: expected a mapping, found "/""#,
            "streamgate.yaml:13: routes[0].upstream: expected a string, found a mapping",
        ])
    }

    func testPublicHealthzIsABoolean() {
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: 127.0.0.1:0 }
            admin: { address: 127.0.0.1:9901, public_healthz: sometimes }
            upstreams:
              - { name: app, servers: [127.0.0.1:3000] }
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        assertErrors(yaml, [#"streamgate.yaml:4: admin.public_healthz: expected true or false, found "sometimes""#])
    }

    func testRootIsNotAMapping() {
        assertErrors("- a\n- b\n", ["streamgate.yaml:1: expected a mapping, found a list"])
    }

    func testEmptyDocument() {
        assertErrors("# nothing here\n", [
            "streamgate.yaml: the file holds no configuration (expected version, listeners, upstreams, routes)",
        ])
    }

    func testYAMLSyntaxError() {
        let yaml = minimalYAML.replacingOccurrences(of: "  - name: app", with: "  - name: app: other")
        assertErrors(yaml, ["streamgate.yaml:6: invalid YAML: mapping values are not allowed in this context"])
    }

    func testUnclosedFlowSequence() {
        let yaml = minimalYAML.replacingOccurrences(of: "[127.0.0.1:3000]", with: "[127.0.0.1:3000")
        assertErrors(yaml, [
            "streamgate.yaml:8: invalid YAML: while parsing a flow sequence at line 7, "
                + "did not find expected ',' or ']'",
        ])
    }

    func testUnquotedStarIsAYAMLAlias() {
        let yaml = minimalYAML.replacingOccurrences(of: "{ path_prefix: / }", with: "{ host: *, path_prefix: / }")
        assertErrors(yaml, [
            "streamgate.yaml:9: invalid YAML: while scanning an alias at line 9, "
                + "did not find expected alphabetic or numeric character",
        ])
    }

    func testSeveralDocuments() {
        assertErrors(minimalYAML + "\n---\nversion: 1\n", [
            "streamgate.yaml:11: invalid YAML: expected a single document in the stream at line 1, "
                + "but found another document",
        ])
    }

    func testDuplicateYAMLKey() {
        let yaml = minimalYAML.replacingOccurrences(
            of: "    address: 127.0.0.1:0",
            with: "    name: other\n    address: 127.0.0.1:0"
        )
        assertErrors(yaml, [#"streamgate.yaml:3: key "name" appears more than once in the same mapping"#])
    }

    func testMissingSections() {
        assertErrors("version: 1\n", [
            "streamgate.yaml:1: listeners: at least one listener is required",
            "streamgate.yaml:1: upstreams: at least one upstream is required",
            "streamgate.yaml:1: routes: at least one route is required",
        ])
    }

    func testEmptyListsAndMissingKeys() {
        let yaml = """
            version: 1
            listeners: []
            upstreams:
              - name: app
                servers: []
            routes:
              - match: { host: "*" }
              - upstream: app
            """
        assertErrors(yaml, [
            "streamgate.yaml:2: listeners: at least one listener is required",
            "streamgate.yaml:5: upstreams[0].servers: at least one server is required",
            "streamgate.yaml:7: routes[0].match.path_prefix: required key is missing",
            "streamgate.yaml:7: routes[0].upstream: required key is missing",
            "streamgate.yaml:8: routes[1].match: required key is missing",
        ])
    }

    func testRouteMatchRules() {
        let yaml = minimalYAML + """

              - match: { path_prefix: events/ }
                upstream: app
              - match: { host: "api.*.com", path_prefix: /a }
                upstream: app
              - match: { host: "example.com:8080", path_prefix: /b }
                upstream: app
              - match: { path_prefix: "/a b" }
                upstream: app
            """
        assertErrors(yaml, [
            #"streamgate.yaml:11: routes[1].match.path_prefix: must start with "/" (got "events/")"#,
            #"streamgate.yaml:13: routes[2].match.host: invalid host pattern "api.*.com": "*" is allowed only as "#
                + #"the whole pattern or as a leading "*." label"#,
            #"streamgate.yaml:15: routes[3].match.host: invalid host pattern "example.com:8080": "#
                + "must not include a port",
            ##"streamgate.yaml:17: routes[4].match.path_prefix: must not contain spaces, "?" or "#" (got "/a b")"##,
        ])
    }

    func testIntegerLimits() {
        let yaml = """
            version: 1
            listeners:
              - name: plain
                address: 127.0.0.1:0
                http2: { max_concurrent_streams: 0, initial_window_size: 2147483648 }
            upstreams:
              - name: app
                servers: [127.0.0.1:3000]
                max_idle_connections: -1
            routes:
              - { match: { path_prefix: / }, upstream: app }
            """
        assertErrors(yaml, [
            "streamgate.yaml:5: listeners[0].http2.max_concurrent_streams: must be in 1...100000 (got 0)",
            "streamgate.yaml:5: listeners[0].http2.initial_window_size: must be in 1...2147483647 (got 2147483648)",
            "streamgate.yaml:9: upstreams[0].max_idle_connections: must be at least 0 (got -1)",
        ])
    }

    func testSeveralErrorsTogetherInFileOrder() {
        let yaml = """
            version: 3
            listeners:
              - name: plain
                adress: 127.0.0.1:8080
            upstreams:
              - name: app
                servers: [127.0.0.1:99999]
                connect_timeout: fast
            routes:
              - match: { path_prefix: / }
                upstream: ap
            """
        let errors = loadErrors(yaml)
        XCTAssertEqual(errors, [
            "streamgate.yaml:1: version: unsupported version 3 (expected 1)",
            "streamgate.yaml:3: listeners[0].address: required key is missing",
            "streamgate.yaml:4: listeners[0].adress: unknown key (expected one of: name, address, tls, http2, max_connections)",
            #"streamgate.yaml:7: upstreams[0].servers[0]: invalid address "127.0.0.1:99999": port must be a number "#
                + #"in 1...65535"#,
            #"streamgate.yaml:8: upstreams[0].connect_timeout: invalid duration "fast" "#
                + "(use e.g. 250ms, 15s, 5m, 1h)",
            #"streamgate.yaml:11: routes[0].upstream: no upstream named "ap""#,
        ])
    }

    func testErrorDescriptions() {
        XCTAssertEqual(
            ConfigError(file: "streamgate.yaml", line: 14, keyPath: "routes[1].upstream", message: "m").description,
            "streamgate.yaml:14: routes[1].upstream: m"
        )
        XCTAssertEqual(ConfigError(file: "f", line: nil, keyPath: "a.b", message: "m").description, "f: a.b: m")
        XCTAssertEqual(ConfigError(file: "f", line: 3, keyPath: "", message: "m").description, "f:3: m")
        let errors = ConfigErrors(errors: [
            ConfigError(file: "f", line: 1, keyPath: "a", message: "x"),
            ConfigError(file: "f", line: 2, keyPath: "b", message: "y"),
        ])
        XCTAssertEqual(errors.description, "f:1: a: x\nf:2: b: y")
    }
}
