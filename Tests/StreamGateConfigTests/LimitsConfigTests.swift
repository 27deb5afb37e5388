import XCTest

@testable import StreamGateConfig

/// The `limits` block, `listeners[].max_connections` and `routes[].max_request_body`: defaults, every spelling of
/// a size, and each bad value reported at its key and line.
final class LimitsConfigTests: XCTestCase {
    private func load(_ yaml: String) throws(ConfigErrors) -> StreamGateConfiguration {
        try ConfigLoader.load(yaml: yaml, sourcePath: "conf/limits.yaml")
    }

    private func withLimits(_ limits: String) -> String {
        minimalYAML + "\nlimits: \(limits)\n"
    }

    private func withListener(_ line: String) -> String {
        minimalYAML.replacingOccurrences(of: "    address: 127.0.0.1:0", with: "    address: 127.0.0.1:0\n    \(line)")
    }

    private func withRoute(_ line: String) -> String {
        minimalYAML + "\n    \(line)\n"
    }

    func testDefaults() throws {
        let config = try load(minimalYAML)
        XCTAssertEqual(
            config.limits,
            LimitsConfig(
                maxHeaderBytes: 65_536,
                headerTimeout: .seconds(10),
                clientIdleTimeout: .seconds(75),
                streamBufferBytes: 65_536,
                slowConsumerTimeout: .seconds(30)
            )
        )
        XCTAssertEqual(config.listeners.first?.maxConnections, 10_000)
        XCTAssertNil(config.routes.first?.maxRequestBody)
    }

    func testEveryKeyAndSizeSpelling() throws {
        let config = try load(
            withLimits(
                "{ max_header_bytes: 8KiB, header_timeout: 3s, client_idle_timeout: 0s, stream_buffer_bytes: 1MiB, slow_consumer_timeout: 2500ms }"
            )
        )
        XCTAssertEqual(
            config.limits,
            LimitsConfig(
                maxHeaderBytes: 8192,
                headerTimeout: .seconds(3),
                clientIdleTimeout: .zero,
                streamBufferBytes: 1 << 20,
                slowConsumerTimeout: .milliseconds(2500)
            )
        )
        XCTAssertEqual(try load(withLimits("{ max_header_bytes: 4096 }")).limits.maxHeaderBytes, 4096, "plain bytes")
        XCTAssertEqual(try load(withLimits("{ stream_buffer_bytes: 16MiB }")).limits.streamBufferBytes, 16 << 20)
        XCTAssertEqual(try load(withListener("max_connections: 0")).listeners.first?.maxConnections, 0, "0 = none")
        XCTAssertEqual(try load(withRoute("max_request_body: 10MiB")).routes.first?.maxRequestBody, 10 << 20)
        XCTAssertEqual(try load(withRoute("max_request_body: 2GiB")).routes.first?.maxRequestBody, 2 << 30)
        XCTAssertNil(try load(withRoute("max_request_body: 0")).routes.first?.maxRequestBody, "0 = no limit")
    }

    func testBadValuesAreErrorsAtTheirKeys() {
        for (yaml, key, line, message) in [
            (withLimits("{ max_header_bytes: 512 }"), "limits.max_header_bytes", 11, "must be in 1KiB...80KiB (got 512)"),
            (withLimits("{ max_header_bytes: 1MiB }"), "limits.max_header_bytes", 11, "must be in 1KiB...80KiB (got 1MiB)"),
            (withLimits("{ max_header_bytes: 64KB }"), "limits.max_header_bytes", 11, "invalid size \"64KB\""),
            (withLimits("{ max_header_bytes: -1 }"), "limits.max_header_bytes", 11, "invalid size \"-1\""),
            (withLimits("{ stream_buffer_bytes: 1KiB }"), "limits.stream_buffer_bytes", 11, "must be in 4KiB...16MiB"),
            (withLimits("{ stream_buffer_bytes: 32MiB }"), "limits.stream_buffer_bytes", 11, "must be in 4KiB...16MiB"),
            (withLimits("{ header_timeout: soon }"), "limits.header_timeout", 11, "invalid duration \"soon\""),
            (withLimits("{ client_idle_timeout: -5s }"), "limits.client_idle_timeout", 11, "invalid duration"),
            (withLimits("{ slow_consumer_timeout: 30 }"), "limits.slow_consumer_timeout", 11, "invalid duration \"30\""),
            (withLimits("{ max_headers: 1 }"), "limits.max_headers", 11, "unknown key (expected one of: max_header_bytes"),
            (withLimits("64KiB"), "limits", 11, "expected a mapping"),
            (withListener("max_connections: -1"), "listeners[0].max_connections", 5, "must be in 0...1000000 (got -1)"),
            (withListener("max_connections: 2000000"), "listeners[0].max_connections", 5, "must be in 0...1000000"),
            (withListener("max_connections: many"), "listeners[0].max_connections", 5, "expected an integer"),
            (withRoute("max_request_body: lots"), "routes[0].max_request_body", 11, "invalid size \"lots\""),
            (withRoute("max_request_body: 1.5MiB"), "routes[0].max_request_body", 11, "invalid size \"1.5MiB\""),
        ] {
            XCTAssertThrowsError(try load(yaml), key) { error in
                let errors = (error as? ConfigErrors)?.errors ?? []
                XCTAssertEqual(errors.map(\.keyPath), [key], "\(yaml): \(errors)")
                XCTAssertTrue(errors.first?.message.contains(message) ?? false, "\(key): \(errors)")
                XCTAssertEqual(errors.first?.line, line, "\(key): \(errors)")
            }
        }
    }
}
