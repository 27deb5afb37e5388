import StreamGateTestSupport
import XCTest

/// RFC 8441 section 3: a listener advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8) = 1 unless its config says
/// `http2: { websocket: false }`. Read from `nghttp -v` over h2c, which prints the SETTINGS frames it receives.
final class WebSocketHTTP2SettingsTests: WebSocketTestCase {
    func testExtendedConnectIsAdvertisedByDefault() throws {
        let settings = try receivedSettings(listener: .plain)
        XCTAssertTrue(settings.contains("[SETTINGS_ENABLE_CONNECT_PROTOCOL(0x08):1]"), "received:\n\(settings)")
    }

    func testExtendedConnectIsNotAdvertisedWhenDisabled() throws {
        let settings = try receivedSettings(listener: .init(http2: "{ websocket: false }"))
        XCTAssertTrue(settings.contains("SETTINGS_MAX_CONCURRENT_STREAMS"), "no server SETTINGS seen:\n\(settings)")
        XCTAssertFalse(settings.contains("(0x08)"), "received SETTINGS:\n\(settings)")
    }

    /// The server's first (non-ACK) SETTINGS frame as `nghttp -v` prints it: the `recv SETTINGS` line and its entries.
    private func receivedSettings(listener: ProxyConfigText.Listener) throws -> String {
        let origin = try startOrigin()
        let proxy = try startWebSocketProxy(ProxyConfigText.yaml(upstreamPorts: [origin.port], listeners: [listener]))
        let nghttp = try ProcessRunner.findInPath("nghttp")

        let result = try ProcessRunner.run(nghttp, ["-v", "\(try proxy.baseURL())/hello"], timeout: 10)

        XCTAssertFalse(result.timedOut, "nghttp still running after 10 s")
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("hello"), "the request itself failed:\n\(result.stdout)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.contains("recv SETTINGS frame") && $0.contains("flags=0x00") })
        else {
            XCTFail("nghttp printed no received SETTINGS frame:\n\(result.stdout)")
            return ""
        }
        let entries = lines[(start + 1)...].prefix { $0.hasPrefix(" ") && !$0.contains("frame <") }
        return ([lines[start]] + entries).joined(separator: "\n")
    }
}
