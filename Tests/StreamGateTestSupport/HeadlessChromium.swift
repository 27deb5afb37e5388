import Foundation

/// Runs the real headless Chromium against a URL for a bounded time, with a fresh profile each run.
///
/// Pages report what they saw back to the origin (e.g. `fetch('/report?...')`); the test reads the origin's records.
public enum HeadlessChromium {
    /// Where Chromium is looked for: `$STREAMGATE_CHROMIUM`, then the Debian and other common names in `PATH`.
    static let names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]

    /// Whether a chromium binary is installed (tests that need it fail with a clear message if not; CI installs it).
    public static var isAvailable: Bool {
        (try? executable()) != nil
    }

    /// Opens `url` in headless Chromium for `seconds` (bounded), then stops it by PID. Ignores certificate errors.
    ///
    /// Chromium is asked to stop with SIGTERM (so it ends its own helper processes); if it is still running two
    /// seconds later it is killed with SIGKILL. `timedOut` is false when it was stopped on schedule.
    public static func visit(_ url: String, seconds: Double, extraArguments: [String] = []) throws -> ProcessResult {
        try visit(url, timeout: seconds, extraArguments: extraArguments, until: { false })
    }

    /// Opens `url` and stops Chromium (by PID, as above) as soon as `condition` holds, or after `timeout` seconds
    /// (bounded), whichever comes first. The condition is polled every 50 ms, typically on the origin's records.
    public static func visit(
        _ url: String,
        timeout: Double,
        extraArguments: [String] = [],
        until condition: () -> Bool
    ) throws -> ProcessResult {
        let binary = try executable()
        let directory = try TemporaryDirectory(prefix: "streamgate-chromium")
        let profile = directory.file("profile")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        // No environment proxy may capture the page's requests; a private HOME keeps the user's files untouched.
        for name in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            environment[name] = nil
        }
        environment["HOME"] = directory.url.path
        return try ProcessRunner.run(
            binary,
            arguments(profile: profile.path) + extraArguments + [url],
            environment: environment,
            timeout: max(0, min(timeout, 120)),
            stop: .terminate,
            until: condition
        )
    }

    /// The Chromium executable, or an error that says how to install it.
    public static func executable() throws -> URL {
        if let explicit = ProcessInfo.processInfo.environment["STREAMGATE_CHROMIUM"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        for name in names {
            if let found = try? ProcessRunner.findInPath(name) {
                return found
            }
        }
        throw TestSupportError(
            "headless Chromium not found (looked for \(names.joined(separator: ", ")) in PATH); "
                + "install it with `apt-get install chromium` or set STREAMGATE_CHROMIUM"
        )
    }

    static func arguments(profile: String) -> [String] {
        [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1280,1000",
            "--disable-dev-shm-usage",
            "--ignore-certificate-errors",
            "--user-data-dir=\(profile)",
            "--no-first-run",
            "--no-default-browser-check",
            "--no-proxy-server",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-breakpad",
            "--metrics-recording-only",
            "--mute-audio",
        ]
    }
}
