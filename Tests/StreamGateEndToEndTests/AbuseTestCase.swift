import Foundation
import StreamGateTestSupport
import XCTest

/// Base for the adversarial suites: a proxy on a real origin with a well-behaved event stream (the bystander) on
/// its own HTTP/2 connection, already flowing, so each attack can be checked against it: the bystander must keep
/// getting events during and after.
class AbuseTestCase: AdminTestCase {
    private var bystander: RawHTTP2Client?
    private var bystanderStream: UInt32 = 0

    override func tearDown() {
        bystander?.close()
        bystander = nil
        super.tearDown()
    }

    /// A proxy on a new origin with the bystander flowing; returns the plain listener's port. `routes` go before
    /// the bystander's `/sse` route (YAML flow mappings, one per line); the default routes everything else.
    /// `upstreams` are added beside `app` (the origin started here), in the same form.
    func startProxyWithBystander(
        routes: [String] = ["{ match: { path_prefix: / }, upstream: app }"],
        upstreams: [String] = []
    ) throws -> (port: Int, origin: TestOrigin) {
        let origin = try startOrigin()
        let routeLines = routes.map { "  - \($0)" }.joined(separator: "\n")
        let upstreamLines = upstreams.map { "\n  - \($0)" }.joined()
        let yaml = """
            version: 1
            listeners:
              - { name: plain, address: "127.0.0.1:0" }
            admin: { address: "127.0.0.1:0" }
            upstreams:
              - { name: app, servers: ["127.0.0.1:\(origin.port)"] }\(upstreamLines)
            routes:
              - { match: { path_prefix: /sse }, upstream: app, sse: { heartbeat_interval: 0s } }
            \(routeLines)

            """
        let proxy = try startWebSocketProxy(yaml, listeners: ["plain", "admin"])
        adminBase = "http://127.0.0.1:\(try proxy.port(of: "admin"))"
        self.proxy = proxy
        let port = try proxy.port(of: "plain")
        let client = try RawHTTP2Client(port: port)
        bystander = client
        bystanderStream = client.get("/sse-resume?gap=100")
        XCTAssertTrue(Self.waitForEvents(client, bystanderStream, atLeast: 2), "the bystander stream never started")
        return (port, origin)
    }

    static func events(_ client: RawHTTP2Client, _ stream: UInt32) -> Int {
        EventStreamText.ids(in: String(decoding: client.stream(stream).data, as: UTF8.self)).count
    }

    @discardableResult
    static func waitForEvents(_ client: RawHTTP2Client, _ stream: UInt32, atLeast count: Int) -> Bool {
        client.waitForStream(stream, timeout: 5) { _ in events(client, stream) >= count }
    }

    /// The bystander event stream still gets events after the attack.
    func assertBystanderFlows(file: StaticString = #filePath, line: UInt = #line) {
        guard let bystander else { return XCTFail("no bystander", file: file, line: line) }
        let before = Self.events(bystander, bystanderStream)
        XCTAssertTrue(
            Self.waitForEvents(bystander, bystanderStream, atLeast: before + 3),
            "the event stream on another connection stalled",
            file: file,
            line: line
        )
        XCTAssertNil(bystander.goAwayCode, file: file, line: line)
    }

    static func milliseconds(_ seconds: TimeInterval) -> String {
        String(format: "%.0f ms", seconds * 1000)
    }
}
