import Foundation

/// Headless Chromium with its DevTools protocol on loopback (https://chromedevtools.github.io/devtools-protocol/),
/// driven by a small Python client: polls a page with `Runtime.evaluate`, then saves a `Page.captureScreenshot`.
///
/// The profile is fresh and has network prediction off, so Chromium opens no extra preconnect socket. Chromium is
/// always stopped by its PID (SIGTERM, then SIGKILL after two seconds), at the latest on deinit.
public final class ChromiumDevTools: @unchecked Sendable {
    /// The DevTools HTTP/WebSocket port on 127.0.0.1, read from the profile's `DevToolsActivePort`.
    public let port: Int
    private let directory: TemporaryDirectory
    private let process: Process
    private let stderrURL: URL
    private let stopped = StopFlag()

    /// Starts Chromium on `url` and waits up to `startupTimeout` seconds for its DevTools port.
    public init(url: String, startupTimeout: TimeInterval = 20) throws {
        directory = try TemporaryDirectory(prefix: "streamgate-devtools")
        let profile = directory.file("profile")
        let defaultProfile = profile.appendingPathComponent("Default")
        try FileManager.default.createDirectory(at: defaultProfile, withIntermediateDirectories: true)
        // Network prediction off: no preconnect socket next to the page's own connection.
        try Data(#"{"net":{"network_prediction_options":2}}"#.utf8)
            .write(to: defaultProfile.appendingPathComponent("Preferences"))
        stderrURL = try directory.write("", to: "chromium.stderr")
        let stderr = try FileHandle(forWritingTo: stderrURL)
        defer { try? stderr.close() }

        process = Process()
        process.executableURL = try HeadlessChromium.executable()
        process.arguments = HeadlessChromium.arguments(profile: profile.path) + ["--remote-debugging-port=0", url]
        var environment = ProcessInfo.processInfo.environment
        for name in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            environment[name] = nil
        }
        environment["HOME"] = directory.url.path
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()

        let portFile = profile.appendingPathComponent("DevToolsActivePort")
        var found: Int?
        let process = self.process
        Wait.until(timeout: startupTimeout, interval: 0.05) {
            let text = (try? String(contentsOf: portFile, encoding: .utf8)) ?? ""
            found = text.split(separator: "\n").first.flatMap { Int($0) }
            return found != nil || !process.isRunning
        }
        guard let found else {
            port = 0
            stop()
            throw TestSupportError("Chromium wrote no DevToolsActivePort within \(startupTimeout)s:\n\(self.stderr)")
        }
        port = found
    }

    /// Evaluates `expression` in the page every 200 ms until it returns an object with `done: true` or `timeout`
    /// seconds pass, then saves a PNG screenshot to `screenshot`. The object's other fields (strings or numbers)
    /// come back as `state` events, one per change; then `screenshot` (with `bytes`) and `end` (with `done`).
    public func poll(_ expression: String, timeout: TimeInterval, screenshot: URL) throws -> PythonPeer {
        try WebSocketPeers.requireWebSocketsLibrary()
        let scripts = try TemporaryDirectory(prefix: "streamgate-devtools-client")
        let file = try scripts.write(Self.clientSource, to: "devtools_poll.py")
        let peer = try PythonPeer(
            script: file,
            arguments: [String(port), expression, String(timeout), screenshot.path],
            directory: scripts
        )
        if peer.waitForExit(timeout: timeout + 20) == nil {
            peer.stop(timeout: 1)
        }
        return peer
    }

    /// What Chromium wrote on stderr so far, for failure messages.
    public var stderr: String {
        (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
    }

    /// SIGTERM by PID (Chromium then ends its helpers), SIGKILL two seconds later if it still runs. Safe to call twice.
    public func stop() {
        guard stopped.markStopped() else { return }
        if process.isRunning {
            ProcessSignal.terminate(process.processIdentifier)
            if !Wait.until(timeout: 2, interval: 0.02, { !process.isRunning }) {
                ProcessSignal.forceKill(process.processIdentifier)
            }
        }
        process.waitUntilExit()
    }

    deinit {
        stop()
    }

    static let clientSource = #"""
    """Polls the first page target of Chromium over the DevTools protocol, then captures a screenshot.

    usage: devtools_poll.py DEVTOOLS_PORT EXPRESSION TIMEOUT_SECONDS SCREENSHOT_PATH
    JSON events on stdout, one per line: state (each change), screenshot (bytes), end (done), error (message).
    """
    import asyncio
    import base64
    import json
    import sys
    import time
    import urllib.request

    from websockets.asyncio.client import connect


    def emit(event, **fields):
        print(json.dumps({"event": event, "time": time.time(), **fields}), flush=True)


    def page_target(port, deadline):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            with opener.open(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                targets = json.load(response)
            pages = [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
            if pages or time.monotonic() > deadline:
                return pages[0] if pages else None
            time.sleep(0.1)


    async def main(port, expression, timeout, screenshot):
        deadline = time.monotonic() + timeout
        page = page_target(port, deadline)
        if page is None:
            emit("error", message="no page target")
            return 1
        async with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10, ping_interval=None) as ws:
            ids = iter(range(1, 1 << 30))

            async def call(method, **params):
                number = next(ids)
                await ws.send(json.dumps({"id": number, "method": method, "params": params}))
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                    if message.get("id") == number:
                        if "error" in message:
                            raise RuntimeError(f"{method}: {message['error']}")
                        return message["result"]

            done, last = False, None
            while not done and time.monotonic() < deadline:
                result = await call("Runtime.evaluate", expression=expression, returnByValue=True)
                value = result.get("result", {}).get("value")
                if isinstance(value, dict):
                    done = bool(value.pop("done", False))
                    if value != last:
                        emit("state", **value)
                        last = value
                if not done:
                    await asyncio.sleep(0.2)
            shot = await call("Page.captureScreenshot", format="png")
            data = base64.b64decode(shot["data"])
            with open(screenshot, "wb") as file:
                file.write(data)
            emit("screenshot", bytes=len(data))
            emit("end", done=done)
        return 0


    if __name__ == "__main__":
        port, expression, timeout, screenshot = sys.argv[1:5]
        sys.exit(asyncio.run(main(int(port), expression, float(timeout), screenshot)))
    """#
}
