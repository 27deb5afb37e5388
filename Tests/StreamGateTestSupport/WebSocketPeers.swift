import Foundation

/// Real WebSocket peers for the end-to-end tests, written in Python: the scripts live here as string literals and
/// are written into a fresh temporary directory for each peer (so SwiftPM sees no stray `.py` files).
///
/// - `echo_server.py`: an upstream on the `websockets` library (RFC 6455 + permessage-deflate), see its docstring.
/// - `raw_upstream.py`: an upstream that frames by hand and reports every frame it receives.
/// - `client.py`: client scenarios on the `websockets` library (`echo`, `close4001`, `idle`, `chatty`).
/// - `raw_client.py`: a client that frames by hand, to see Pings (`pings`, `stall`, `drain`).
///
/// Every script prints JSON events (`PythonPeerEvent`) on stdout. Needs `python3` with `websockets` >= 13
/// (`.ci/run` installs it: `python3 -m pip install websockets`).
public enum WebSocketPeers {
    /// The scripts, by file name.
    public enum Script: String, CaseIterable, Sendable {
        case echoServer = "echo_server.py"
        case rawUpstream = "raw_upstream.py"
        case client = "client.py"
        case rawClient = "raw_client.py"

        var source: String {
            switch self {
            case .echoServer: return WebSocketPeers.echoServerSource
            case .rawUpstream: return WebSocketPeers.rawUpstreamSource
            case .client: return WebSocketPeers.clientSource
            case .rawClient: return WebSocketPeers.rawClientSource
            }
        }
    }

    /// Starts `script` with `arguments`; `files` (name -> text) are written next to it first.
    public static func start(
        _ script: Script,
        _ arguments: [String] = [],
        files: [String: String] = [:]
    ) throws -> PythonPeer {
        try requireWebSocketsLibrary()
        let directory = try TemporaryDirectory(prefix: "streamgate-wspeer")
        try directory.write(frameHelpersSource, to: "sgframes.py")
        for (name, text) in files {
            try directory.write(text, to: name)
        }
        let file = try directory.write(script.source, to: script.rawValue)
        return try PythonPeer(script: file, arguments: arguments, directory: directory)
    }

    /// Starts an upstream script and waits up to `timeout` seconds for its `listening` event; returns it and its port.
    public static func startServer(
        _ script: Script,
        _ arguments: [String] = [],
        files: [String: String] = [:],
        timeout: TimeInterval = 10
    ) throws -> (peer: PythonPeer, port: Int) {
        let peer = try start(script, arguments, files: files)
        return (peer, try peer.listeningPort(timeout: timeout))
    }

    /// Runs a client script to its end, killed by PID after `timeout` seconds; the finished peer.
    public static func run(_ script: Script, _ arguments: [String], timeout: TimeInterval) throws -> PythonPeer {
        let peer = try start(script, arguments)
        if peer.waitForExit(timeout: timeout) == nil {
            peer.stop(timeout: 0.5)
        }
        return peer
    }

    /// Throws, saying how to install it, unless `python3` can import `websockets.asyncio` (websockets >= 13).
    public static func requireWebSocketsLibrary() throws {
        if let problem = libraryProblem {
            throw TestSupportError(problem)
        }
    }

    /// Checked once per test process: nil when the library is usable, else what is wrong.
    private static let libraryProblem: String? = {
        let check = "import websockets.asyncio.client, websockets.asyncio.server, websockets.version; "
            + "print(websockets.version.version)"
        let hint = "the WebSocket tests need python3 with websockets >= 13 (`python3 -m pip install websockets`, "
            + "as .ci/run does; or set STREAMGATE_PYTHON to an interpreter that has it)"
        do {
            let result = try ProcessRunner.run(try PythonPeer.interpreter(), ["-c", check], timeout: 20)
            if result.exitCode == 0 { return nil }
            return "\(hint): \(result.stderr.split(separator: "\n").last.map(String.init) ?? "import failed")"
        } catch {
            return "\(hint): \(error)"
        }
    }()
}
