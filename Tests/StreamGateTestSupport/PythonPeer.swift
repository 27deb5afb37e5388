import Foundation

/// A Python 3 child process running one test peer script: it prints `PythonPeerEvent`s on stdout (collected through
/// a file, so no pipe can fill up), and it is always stopped by its PID (at the latest on deinit).
public final class PythonPeer: @unchecked Sendable {
    /// The script's file name, for messages.
    public let name: String
    private let directory: TemporaryDirectory
    private let process: Process
    private let stdoutURL: URL
    private let stderrURL: URL
    private let stdoutHandle: FileHandle
    private let stderrHandle: FileHandle
    private let stopped = StopFlag()

    /// Starts `python3 -u SCRIPT arguments...` with `script` inside `directory` (which the peer keeps alive),
    /// after `launcher` when there is one (e.g. `ip netns exec HOST`).
    init(script: URL, arguments: [String], directory: TemporaryDirectory, launcher: [String] = []) throws {
        self.directory = directory
        name = script.lastPathComponent
        stdoutURL = try directory.write("", to: "\(name).stdout")
        stderrURL = try directory.write("", to: "\(name).stderr")
        stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        stderrHandle = try FileHandle(forWritingTo: stderrURL)
        process = Process()
        let command = [try PythonPeer.interpreter().path, "-u", script.path] + arguments
        process.executableURL = URL(fileURLWithPath: launcher.first ?? command[0])
        process.arguments = Array((launcher + command).dropFirst())
        process.currentDirectoryURL = directory.url
        var environment = ProcessInfo.processInfo.environment
        for variable in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            environment[variable] = nil
        }
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        try process.run()
    }

    /// Writes `serverPrelude` and `source` as `fileName` into a new temporary directory, starts it with `arguments`,
    /// and waits up to `timeout` seconds for its `listening` event; the running peer and the port that event names.
    public static func startServer(
        source: String,
        fileName: String,
        arguments: [String] = [],
        timeout: TimeInterval = 10
    ) throws -> (peer: PythonPeer, port: Int) {
        let directory = try TemporaryDirectory(prefix: "streamgate-\(fileName)")
        let script = try directory.write(serverPrelude + "\n\n" + source, to: fileName)
        let peer = try PythonPeer(script: script, arguments: arguments, directory: directory)
        return (peer, try peer.listeningPort(timeout: timeout))
    }

    /// Runs `python3 -m module arguments...` (e.g. `uvicorn app:app --port N`), from a launcher in a new temporary
    /// directory; stopped by its PID like any peer.
    public static func startModule(_ module: String, arguments: [String]) throws -> PythonPeer {
        let directory = try TemporaryDirectory(prefix: "streamgate-\(module)")
        let launcher = try directory.write(
            "import runpy, sys\nsys.argv[0] = \"\(module)\"\nrunpy.run_module(\"\(module)\", run_name=\"__main__\")\n",
            to: "run_\(module).py"
        )
        return try PythonPeer(script: launcher, arguments: arguments, directory: directory)
    }

    /// Runs the script at `script` (a file of the repository, such as an example's client) with `arguments`; its
    /// output files live in a new temporary directory. `launcher` goes before the interpreter. Stopped by its PID
    /// like any peer.
    public static func start(script: URL, arguments: [String], launcher: [String] = []) throws -> PythonPeer {
        try PythonPeer(
            script: script,
            arguments: arguments,
            directory: try TemporaryDirectory(prefix: "streamgate-script"),
            launcher: launcher
        )
    }

    /// Fails with the `pip install` line to run when `python3` cannot import every one of `modules`.
    public static func requireModules(_ modules: [String], install packages: String) throws {
        let probe = try ProcessRunner.run(try interpreter(), ["-c", "import " + modules.joined(separator: ", ")], timeout: 30)
        guard probe.exitCode == 0 else {
            throw TestSupportError("python3 cannot import \(modules.joined(separator: ", ")) (pip install \(packages)): \(probe.stderr)")
        }
    }

    /// The port of the script's `listening` event, waiting up to `timeout` seconds for it; without one the peer is
    /// stopped and the error carries its transcript.
    public func listeningPort(timeout: TimeInterval) throws -> Int {
        guard let port = waitForEvent("listening", timeout: timeout)?.int("port") else {
            stop()
            throw TestSupportError("\(name) did not report its port within \(timeout)s\n\(transcript)")
        }
        return port
    }

    /// What every origin script started by `startServer` can call: `emit(event, **fields)` prints one event line,
    /// `serve_tcp(handler, **options)` serves an asyncio stream handler on a free 127.0.0.1 port and announces it
    /// as `listening`.
    static let serverPrelude = #"""
        import asyncio
        import json
        import time


        def emit(event, **fields):
            """Prints one event as a JSON object on one line, every value a string."""
            record = {"event": event, "time": str(time.time())}
            record.update({key: str(value) for key, value in fields.items()})
            print(json.dumps(record), flush=True)


        async def serve_tcp(handler, **options):
            """Serves `handler` on a free 127.0.0.1 port, announced as `listening`, until the process is stopped."""
            server = await asyncio.start_server(handler, "127.0.0.1", 0, **options)
            emit("listening", port=server.sockets[0].getsockname()[1])
            async with server:
                await server.serve_forever()
        """#

    /// The tests' virtual environment, `.build/python` in the package (README.md's Quick start makes it).
    static let virtualEnvironment = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/python")

    /// `$STREAMGATE_PYTHON`, else the virtual environment's `python3` when it exists, else `python3` from `PATH`.
    public static func interpreter() throws -> URL {
        if let explicit = ProcessInfo.processInfo.environment["STREAMGATE_PYTHON"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        return try tool("python3")
    }

    /// A command a Python package installs (`kubernetes-validate`): from the virtual environment when it has it,
    /// else from `PATH`.
    public static func tool(_ name: String) throws -> URL {
        let local = virtualEnvironment.appendingPathComponent("bin").appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: local.path) {
            return local
        }
        return try ProcessRunner.findInPath(name)
    }

    public var processIdentifier: Int32 { process.processIdentifier }

    public var isRunning: Bool { process.isRunning }

    /// Every event printed so far.
    public var events: [PythonPeerEvent] {
        PythonPeerEvent.parse(stdout)
    }

    /// Everything on stdout so far.
    public var stdout: String {
        (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
    }

    /// Everything on stderr so far (Python tracebacks land here).
    public var stderr: String {
        (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
    }

    /// The first event called `name` (and satisfying `condition`), waiting up to `timeout` seconds for it.
    @discardableResult
    public func waitForEvent(
        _ name: String,
        timeout: TimeInterval,
        where condition: (PythonPeerEvent) -> Bool = { _ in true }
    ) -> PythonPeerEvent? {
        var found: PythonPeerEvent?
        Wait.until(timeout: timeout, interval: 0.02) {
            found = events.first { $0.name == name && condition($0) }
            return found != nil
        }
        return found
    }

    /// Waits up to `timeout` seconds for the script to end; its exit code, or nil while it still runs.
    @discardableResult
    public func waitForExit(timeout: TimeInterval) -> Int32? {
        guard Wait.until(timeout: timeout, interval: 0.02, { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        return process.shellExitCode
    }

    /// SIGKILL by PID, then up to 5 s for the exit: the peer dies as a crashed server does, its connections reset,
    /// its port refusing.
    public func kill() {
        ProcessSignal.forceKill(process.processIdentifier)
        _ = waitForExit(timeout: 5)
    }

    /// SIGTERM by PID, up to `timeout` seconds to exit, then SIGKILL. Safe to call twice.
    public func stop(timeout: TimeInterval = 2) {
        guard stopped.markStopped() else { return }
        ProcessSignal.stop(process, timeout: timeout)
        try? stdoutHandle.close()
        try? stderrHandle.close()
    }

    /// The script, its events and stderr, for failure messages.
    public var transcript: String {
        "--- \(name) stdout ---\n\(stdout)--- \(name) stderr ---\n\(stderr)"
    }

    deinit {
        stop(timeout: 1)
    }
}
