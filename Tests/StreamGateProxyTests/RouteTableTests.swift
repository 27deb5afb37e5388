import NIOCore
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

final class RouteTableTests: XCTestCase {
    private func makeTable(_ matches: [RouteMatch]) throws -> RouteTable {
        let upstream = UpstreamGroup(
            index: 0,
            config: UpstreamConfig(name: "app", servers: [HostPort(host: "127.0.0.1", port: 3000)]),
            addresses: [try SocketAddress(ipAddress: "127.0.0.1", port: 3000)]
        )
        let routes = matches.enumerated().map { index, match in
            Route(index: index, config: RouteConfig(match: match, upstream: "app"), upstream: upstream)
        }
        return RouteTable(routes: routes)
    }

    func testChoosesByHostThenLongestPrefixThenOrder() throws {
        let table = try makeTable([
            RouteMatch(host: .any, pathPrefix: "/"),  // 0
            RouteMatch(host: .any, pathPrefix: "/events/"),  // 1
            RouteMatch(host: .suffix(".example.com"), pathPrefix: "/"),  // 2
            RouteMatch(host: .exact("api.example.com"), pathPrefix: "/"),  // 3
            RouteMatch(host: .suffix(".eu.example.com"), pathPrefix: "/"),  // 4
            RouteMatch(host: .exact("api.example.com"), pathPrefix: "/v2/"),  // 5
            RouteMatch(host: .any, pathPrefix: "/events/"),  // 6: same as 1, later: never chosen
        ])
        let cases: [(host: String?, path: String, expected: Int?)] = [
            ("other.org", "/", 0),
            ("other.org", "/events/x", 1),
            (nil, "/events/x", 1),
            ("www.example.com", "/events/x", 2),
            ("API.Example.com:8443", "/x", 3),
            ("api.example.com", "/v2/items", 5),
            ("api.example.com.", "/v2/items", 5),
            ("a.eu.example.com", "/", 4),
            ("example.com", "/events/", 1),  // "*.example.com" needs a label before the suffix
            ("[::1]:8080", "/events/", 1),
        ]
        for testCase in cases {
            let route = table.route(host: testCase.host, path: Substring(testCase.path))
            XCTAssertEqual(route?.index, testCase.expected, "host \(testCase.host ?? "nil") path \(testCase.path)")
        }
    }

    func testNoMatchingRoute() throws {
        let table = try makeTable([RouteMatch(host: .exact("a.test"), pathPrefix: "/only/")])
        XCTAssertNil(table.route(host: "a.test", path: "/other"))
        XCTAssertNil(table.route(host: "b.test", path: "/only/x"))
        XCTAssertNil(table.route(host: nil, path: "/only/x"))
    }

    func testNormalizedHost() {
        XCTAssertEqual(RouteTable.normalizedHost("Example.COM:80"), "example.com")
        XCTAssertEqual(RouteTable.normalizedHost("example.com."), "example.com")
        XCTAssertEqual(RouteTable.normalizedHost("[::1]:8080"), "[::1]")
        XCTAssertEqual(RouteTable.normalizedHost("localhost"), "localhost")
    }
}
