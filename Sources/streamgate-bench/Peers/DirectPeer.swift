import NIOCore

/// No proxy: the load client speaks cleartext HTTP/1.1 straight to the origin, one connection per stream.
/// The floor every proxy is compared with; it has no process to measure.
struct DirectPeer: PeerLauncher {
    var name: PeerName { .direct }

    func unavailableReason() -> String? { nil }

    func wrapped(in wrapper: [String]) -> (any PeerLauncher)? { nil }

    func start(originPort: Int, workspace: Workspace, group: any EventLoopGroup) async throws -> RunningPeer {
        RunningPeer(name: name, target: LoadTarget(port: originPort, transport: .http1Cleartext), process: nil)
    }
}
