#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StreamGateTestSupport
import XCTest

/// `streamgate demo` in a real browser: headless Chromium loads the demo page over TLS, all 50 EventSource streams
/// go live, and they share one HTTP/2 connection (the proxy's debug log names exactly one).
final class DemoCommandTests: XCTestCase {
    private static let streams = 50

    /// The page's header as one object; `done` once every stream has had an event.
    private static let pageState = """
        (() => {
          const text = (id) => { const e = document.getElementById(id); return e ? e.textContent : ''; };
          return { live: text('live'), protocol: text('protocol'), events: text('events'),
                   done: text('live') === '\(streams)' };
        })()
        """

    func testFiftyEventSourcesShareOneHTTP2Connection() throws {
        guard HeadlessChromium.isAvailable else {
            return XCTFail(
                "headless Chromium is not installed (CI installs the `chromium` package; or set STREAMGATE_CHROMIUM)"
            )
        }
        let demo = try DemoProcess()
        defer { demo.stop() }
        let chromium = try ChromiumDevTools(url: "https://localhost:\(demo.port)/")
        defer { chromium.stop() }
        let directory = try TemporaryDirectory(prefix: "streamgate-demo-test")
        let screenshot = directory.file("demo.png")

        let client = try chromium.poll(Self.pageState, timeout: 15, screenshot: screenshot)
        chromium.stop()
        let log = demo.stop()

        let state = client.events.named("state").last
        let context = "\(client.transcript)\n--- chromium stderr ---\n\(chromium.stderr)\n--- log ---\n\(log)"
        XCTAssertEqual(state?["live"], "\(Self.streams)", "live streams; \(context)")
        XCTAssertEqual(state?["protocol"], "h2", context)
        let bytes = client.events.named("screenshot").first?.int("bytes") ?? 0
        let saved = (try? Data(contentsOf: screenshot)) ?? Data()
        XCTAssertGreaterThan(bytes, 0, "no screenshot; \(client.transcript)")
        XCTAssertEqual(saved.count, bytes, "screenshot file at \(screenshot.path)")
        XCTAssertTrue(saved.starts(with: [0x89, 0x50, 0x4E, 0x47]), "screenshot is not a PNG")

        let lines = log.split(separator: "\n")
        let http2 = Set(lines.filter { $0.contains("connection speaks HTTP/2") }.compactMap(Self.connectionID))
        XCTAssertEqual(http2.count, 1, "HTTP/2 connections \(http2.sorted()); log:\n\(log)")
        XCTAssertFalse(lines.contains { $0.contains("connection speaks HTTP/1.1") }, "an HTTP/1.1 connection:\n\(log)")
    }

    /// `N` of the `connection=N` metadata in a log line.
    private static func connectionID(_ line: Substring) -> String? {
        line.split(separator: " ").first { $0.hasPrefix("connection=") }.map { String($0.dropFirst(11)) }
    }
}

/// `streamgate demo --port 0 --log-level debug` as a child process: its port read from the log, stopped by PID.
private final class DemoProcess {
    let port: Int
    private let directory: TemporaryDirectory
    private let logURL: URL
    private let process = Process()
    private var stopped = false

    init(startupTimeout: TimeInterval = 15) throws {
        directory = try TemporaryDirectory(prefix: "streamgate-demo")
        logURL = try directory.write("", to: "stderr.log")
        let handle = try FileHandle(forWritingTo: logURL)
        defer { try? handle.close() }
        process.executableURL = try StreamGateBinary.url()
        process.arguments = ["demo", "--port", "0", "--admin-port", "0", "--log-level", "debug"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()

        let marker = "listener demo listening on 127.0.0.1:"
        var found: Int?
        let (process, logURL) = (self.process, self.logURL)
        Wait.until(timeout: startupTimeout, interval: 0.05) {
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            found = log.split(separator: "\n").lazy.compactMap { line in
                line.range(of: marker).flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) }
            }.first
            return found != nil || !process.isRunning
        }
        guard let found else {
            port = 0
            let log = stop()
            throw TestSupportError("streamgate demo reported no port within \(startupTimeout)s; log:\n\(log)")
        }
        port = found
    }

    /// SIGTERM by PID, SIGKILL after 5 s if still running; returns the whole log. Safe to call twice.
    @discardableResult
    func stop() -> String {
        if !stopped {
            stopped = true
            if process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                if !Wait.until(timeout: 5, interval: 0.02, { !process.isRunning }) {
                    kill(process.processIdentifier, SIGKILL)
                }
            }
            process.waitUntilExit()
        }
        return (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    deinit {
        stop()
    }
}
