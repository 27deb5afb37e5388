import XCTest

@testable import StreamGateProxy

final class RequestTargetTests: XCTestCase {
    func testOriginAndAbsoluteForms() throws {
        let cases: [(uri: String, path: String, authority: String?, originForm: String)] = [
            ("/", "/", nil, "/"),
            ("/events/x?since=3", "/events/x", nil, "/events/x?since=3"),
            ("http://example.com/a/b?q=1", "/a/b", "example.com", "/a/b?q=1"),
            ("HTTPS://example.com:8443", "/", "example.com:8443", "/"),
            ("http://example.com?q", "/", "example.com", "/?q"),
        ]
        for testCase in cases {
            let target = try RequestTarget(uri: testCase.uri)
            XCTAssertEqual(String(target.path), testCase.path, testCase.uri)
            XCTAssertEqual(target.authority.map(String.init), testCase.authority, testCase.uri)
            XCTAssertEqual(String(target.originForm), testCase.originForm, testCase.uri)
        }
    }

    func testRejectsOtherFormsAndDotSegments() {
        for uri in ["*", "example.com:443", "ftp://x/y", "http:///a", "/a#frag", "/a?q#f", "/a/../b", "/a/./b", "/..", "/a/%2e%2E/b", "/a/.%2e"] {
            XCTAssertThrowsError(try RequestTarget(uri: uri), uri)
        }
        for uri in ["/a/..b", "/.well-known/x", "/a/b.", "/..."] {
            XCTAssertNoThrow(try RequestTarget(uri: uri), uri)
        }
    }

    func testHostFieldSyntax() {
        for host in ["app.example", "app.example:8443", "127.0.0.1:80", "[::1]", "[::1]:8080", "a-b_c~d.example", "xn--bcher-kva.example"] {
            XCTAssertNil(HostField.problem(with: host), host)
        }
        for host in ["", ":80", "a b", "user@app", "app/x", "app:80x", "app:123456", "[::1", "[zz]", "app\u{0}", "app\r"] {
            XCTAssertNotNil(HostField.problem(with: host), host)
        }
    }
}
