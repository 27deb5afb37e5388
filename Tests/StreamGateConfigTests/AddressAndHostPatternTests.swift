import XCTest

@testable import StreamGateConfig

final class AddressAndHostPatternTests: XCTestCase {
    func testValidAddresses() {
        let table: [(String, HostPort)] = [
            ("127.0.0.1:8080", HostPort(host: "127.0.0.1", port: 8080)),
            ("[::1]:8080", HostPort(host: "::1", port: 8080)),
            ("[::]:443", HostPort(host: "::", port: 443)),
            ("[::ffff:127.0.0.1]:80", HostPort(host: "::ffff:127.0.0.1", port: 80)),
            ("localhost:3000", HostPort(host: "localhost", port: 3000)),
            ("origin-1.internal:65535", HostPort(host: "origin-1.internal", port: 65535)),
            ("0.0.0.0:0", HostPort(host: "0.0.0.0", port: 0)),
        ]
        for (text, expected) in table {
            XCTAssertEqual(HostPort(parsing: text), expected, text)
        }
    }

    func testInvalidAddresses() {
        let table = [
            "", "localhost", ":80", "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:65536", "127.0.0.1:8o", "::1:8080",
            "[::1]", "[::1]8080", "[::1:8080", "[]:80", "[host]:80", "*:80", "a b:80", "127.0.0.1:+80",
        ]
        for text in table {
            XCTAssertNil(HostPort(parsing: text), "\"\(text)\" should be rejected")
        }
    }

    func testServerPortsStartAtOne() {
        XCTAssertEqual(
            HostPort.parse("127.0.0.1:0", ports: 1...65_535),
            .failure(ConfigProblem(#"invalid address "127.0.0.1:0": port must be a number in 1...65535"#))
        )
    }

    func testAddressDescription() {
        XCTAssertEqual(HostPort(host: "::1", port: 8080).description, "[::1]:8080")
        XCTAssertEqual(HostPort(host: "127.0.0.1", port: 8080).description, "127.0.0.1:8080")
    }

    func testHostPatterns() {
        let table: [(String, HostPattern?)] = [
            ("*", .any),
            ("example.com", .exact("example.com")),
            ("Example.COM", .exact("example.com")),
            ("*.example.com", .suffix(".example.com")),
            ("*.Example.Com", .suffix(".example.com")),
            ("localhost", .exact("localhost")),
            ("10.0.0.1", .exact("10.0.0.1")),
            ("", nil),
            ("*.", nil),
            ("**", nil),
            ("*example.com", nil),
            ("api.*.com", nil),
            ("example.*", nil),
            ("*.*.example.com", nil),
            ("example.com:8080", nil),
            ("exa mple.com", nil),
            ("example..com", nil),
            (".example.com", nil),
        ]
        for (text, expected) in table {
            XCTAssertEqual(HostPattern(parsing: text), expected, "\"\(text)\"")
        }
    }

    func testHostPatternDescriptionRoundTrips() {
        for text in ["*", "example.com", "*.example.com"] {
            XCTAssertEqual(HostPattern(parsing: text)?.description, text)
        }
    }
}
