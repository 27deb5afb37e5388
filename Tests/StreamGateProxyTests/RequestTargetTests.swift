import XCTest

@testable import StreamGateProxy

final class RequestTargetTests: XCTestCase {
    func testOriginAndAbsoluteForms() throws {
        let cases: [(uri: String, path: String, authority: String?, originForm: String)] = [
            ("/", "/", nil, "/"),
            ("/events/x?since=3", "/events/x", nil, "/events/x?since=3"),
            ("/a#frag", "/a", nil, "/a#frag"),
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
        for uri in ["*", "example.com:443", "ftp://x/y", "/a/../b", "/a/./b", "/..", "/a/%2e%2E/b", "/a/.%2e"] {
            XCTAssertThrowsError(try RequestTarget(uri: uri), uri)
        }
        for uri in ["/a/..b", "/.well-known/x", "/a/b.", "/..."] {
            XCTAssertNoThrow(try RequestTarget(uri: uri), uri)
        }
    }
}
