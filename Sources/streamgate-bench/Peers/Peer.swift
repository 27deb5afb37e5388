import Foundation
import NIOCore

/// The things compared: StreamGate, two established proxies, and no proxy at all.
enum PeerName: String, CaseIterable, Sendable, Codable {
    case streamgate
    case nginx
    case haproxy
    case direct
}

/// What every proxy gets told, so their configs stay equivalent.
struct PeerSettings: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS offered to clients (raised over the defaults: 100 streams per
    /// connection must fit).
    var maxConcurrentStreams = 128
    /// Event loops / worker processes / threads: one per core.
    var workers: Int
    /// The open-file limit of the run, which the peers inherit.
    var fileLimit: Int
    /// A program (and its arguments) the peer runs under, e.g. valgrind for the instruction count; none when empty.
    var wrapper: [String] = []
}

/// Starts one kind of peer in front of the origin.
protocol PeerLauncher: Sendable {
    var name: PeerName { get }
    /// Why this peer cannot run on this machine (e.g. its binary is missing), or nil.
    func unavailableReason() -> String?
    /// How the peer talks to the origin, so it is given the origin port that speaks it.
    var upstreamProtocol: OriginProtocol { get }
    func start(originPort: Int, workspace: Workspace, group: any EventLoopGroup) async throws -> RunningPeer
    /// The same peer, run under `wrapper` (see `PeerSettings.wrapper`); nil for a peer without a process.
    func wrapped(in wrapper: [String]) -> (any PeerLauncher)?
}

extension PeerLauncher {
    var upstreamProtocol: OriginProtocol { .http1 }
}

/// A started peer: where the load client connects, and the process to measure (nil for "direct").
struct RunningPeer: Sendable {
    var name: PeerName
    var target: LoadTarget
    var process: ChildProcess?
    /// The admin endpoint's port on 127.0.0.1, when the peer serves one.
    var adminPort: Int? = nil

    /// CPU and RSS of the proxy and its workers; nil for "direct" or a process that is gone.
    func sample() -> ProcessSample? {
        process.flatMap { ProcessStats.sample(rootPID: $0.pid) }
    }

    func stop(grace: Duration = .seconds(5)) async {
        await process?.stop(grace: grace)
    }

    /// The peer `process` once it accepts connections on `port` (TLS + HTTP/2 by ALPN); stops the process when
    /// it exits or does not accept in time.
    static func accepting(
        _ name: PeerName,
        port: Int,
        process: ChildProcess,
        group: any EventLoopGroup
    ) async throws -> RunningPeer {
        do {
            try await LoopbackPorts.waitUntilAccepting(port: port, process: process, group: group)
            return RunningPeer(name: name, target: LoadTarget(port: port, transport: .http2TLS), process: process)
        } catch {
            await process.stop()
            throw error
        }
    }
}

/// Finds a program in PATH or the sbin folders (nginx and haproxy live in /usr/sbin on Debian).
enum ExecutableLookup {
    static func find(_ name: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for folder in path + ["/usr/sbin", "/usr/local/sbin", "/sbin"] {
            let candidate = folder + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }
}
