import NIOCore
import NIOPosix

/// Loopback port helpers for peers that cannot bind port 0 and report it.
enum LoopbackPorts {
    /// A port that was free a moment ago: bound on 127.0.0.1:0 and released.
    static func free(group: any EventLoopGroup) async throws -> Int {
        let channel = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        guard port > 0 else { throw PeerStartFailure(reason: "no free loopback port") }
        return port
    }

    /// Waits until something accepts TCP connections on `port`, or `process` exits, or `timeout` passes.
    static func waitUntilAccepting(
        port: Int,
        process: ChildProcess,
        group: any EventLoopGroup,
        timeout: Duration = .seconds(15)
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw PeerStartFailure(reason: "exited at start: \(process.logTail())")
            }
            if let channel = try? await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(500))
                .connect(host: "127.0.0.1", port: port).get()
            {
                try? await channel.close()
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        throw PeerStartFailure(reason: "not accepting on 127.0.0.1:\(port) after \(timeout): \(process.logTail())")
    }
}
