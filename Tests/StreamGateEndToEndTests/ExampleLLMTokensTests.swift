import Foundation
import StreamGateTestSupport
import XCTest

/// `examples/llm-tokens` as its README runs it: the stand-in model under uvicorn and StreamGate with the example's
/// own config. curl over HTTP/2 POSTs a prompt and sees heartbeats fill the thinking pause and every token arrive
/// on its own; the page's `fetch()` reader in headless Chromium gets every token and the heartbeats over h2; a
/// prompt over the route's body limit is refused before it reaches the app.
final class ExampleLLMTokensTests: ExampleTestCase {
    private func start() throws -> (app: PythonPeer, base: String) {
        let (app, port) = try startApp(example: "llm-tokens")
        let proxy = try startProxy(example: "llm-tokens", appPort: port, listeners: ["https"])
        return (app, "https://127.0.0.1:\(try proxy.port(of: "https"))")
    }

    private static func chat(_ body: String) -> [String] {
        ["-skN", "--http2", "-H", "content-type: application/json", "--data-binary", body]
    }

    func testCurlSeesHeartbeatsWhileTheModelThinksAndEachTokenOnItsOwn() throws {
        let (app, base) = try start()
        let stream = try CurlStream(
            Self.chat(#"{"prompt": "why is the sky blue", "think_seconds": 3, "token_interval": 0.05}"#) + ["\(base)/v1/chat"]
        )
        XCTAssertNotNil(stream.waitForExit(timeout: 20), "the answer never ended: \(stream.lines.map(\.text))")
        let lines = stream.lines.map { (text: $0.text.trimmingCharacters(in: .whitespacesAndNewlines), at: $0.arrivedAt) }
        let texts = lines.map(\.text)
        let start = try XCTUnwrap(texts.firstIndex(of: "event: start"), "\(texts)")
        let firstToken = try XCTUnwrap(texts.firstIndex(of: "event: token"), "\(texts)")

        // Three silent seconds at heartbeat_interval 1s: at least two heartbeat comments before the first token.
        let pauseComments = texts[start..<firstToken].filter { $0.hasPrefix(":") }
        XCTAssertGreaterThanOrEqual(pauseComments.count, 2, "comment lines in the pause: \(texts[start..<firstToken])")

        // Every token, in order, then [DONE].
        let expected = try XCTUnwrap(app.events.named("chat").first?.int("tokens"))
        let tokens = lines.filter { $0.text.hasPrefix(#"data: {"text""#) }
        XCTAssertEqual(tokens.count, expected, "\(texts)")
        XCTAssertEqual(texts.filter { $0 == "data: [DONE]" }.count, 1)
        XCTAssertTrue(texts.firstIndex(of: "data: [DONE]")! > texts.lastIndex(of: "event: token")!)

        // Each token left the app 50 ms after the one before; had anything on the way buffered the response, they
        // would arrive together at the end.
        let span = (tokens.last?.at ?? 0) - (tokens.first?.at ?? 0)
        XCTAssertGreaterThan(span, Double(expected - 1) * 0.05 * 0.5, "\(expected) tokens arrived within \(span) s")
    }

    func testTheFetchReaderInChromiumGetsEveryTokenOverHTTP2() throws {
        _ = try HeadlessChromium.executable()
        let (app, base) = try start()
        let visit = try HeadlessChromium.visit("\(base)/?auto=2", timeout: 45) { !app.events.named("report").isEmpty }
        let report = try XCTUnwrap(app.events.named("report").first, "chromium: \(visit.stderr.suffix(2000))\n\(app.transcript)")
        XCTAssertEqual(report.int("tokens"), app.events.named("chat").first?.int("tokens"))
        XCTAssertGreaterThanOrEqual(report.int("heartbeats") ?? 0, 2, "two silent seconds, heartbeats every second")
        XCTAssertEqual(report["protocol"], "h2")
    }

    func testPromptOverTheBodyLimitIsRefusedBeforeTheApp() throws {
        let (app, base) = try start()
        let prompt = String(repeating: "x", count: 70 * 1024)
        let response = try Curl.fetch(
            "\(base)/v1/chat", ["-k", "--http2", "-H", "content-type: application/json", "--data-binary", #"{"prompt": "\#(prompt)"}"#]
        )
        XCTAssertEqual(response.status, 413, response.text)
        XCTAssertTrue(app.events.named("chat").isEmpty, "the oversized prompt reached the app")
    }
}
