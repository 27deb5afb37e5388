import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 origin on 127.0.0.1 with an ephemeral port, serving the endpoints the end-to-end tests need
/// (see `OriginHandler`) and logging its connections in `connections`.
public final class TestOrigin: @unchecked Sendable {
    /// What the origin has seen of its connections.
    public let connections = OriginConnectionLog()
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let children: ChildChannels
    private let stopped = StopFlag()

    /// The port the origin listens on.
    public let port: Int

    /// Binds 127.0.0.1:`port` (0: any free port; a port given again after `stop()` restarts the origin there) and
    /// starts serving.
    public init(port: Int = 0) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let log = connections
        let children = ChildChannels()
        do {
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    log.connectionAccepted()
                    children.add(channel)
                    channel.closeFuture.whenComplete { _ in log.connectionClosed() }
                    return channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.configureHTTPServerPipeline(withErrorHandling: true)
                        try sync.addHandler(OriginHandler(log: log))
                    }
                }
                .bind(host: "127.0.0.1", port: port)
                .wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.children = children
        self.port = channel.localAddress?.port ?? 0
    }

    /// Closes the listener and every open connection, then stops the event loop. Safe to call twice.
    public func stop() {
        guard stopped.markStopped() else { return }
        try? channel.close().wait()
        children.closeAll()
        try? group.syncShutdownGracefully()
    }

    deinit {
        stop()
    }
}

/// The origin's accepted channels, so `stop()` can close connections that are held open (e.g. `/slow`).
private final class ChildChannels: @unchecked Sendable {
    private let lock = NSLock()
    private var channels: [any Channel] = []

    func add(_ channel: any Channel) {
        lock.withLock { channels.append(channel) }
    }

    func closeAll() {
        let all = lock.withLock { channels }
        for channel in all where channel.isActive {
            try? channel.close().wait()
        }
    }
}

/// Set once, the first time `markStopped()` is called.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var isSet = false

    /// Returns true only for the first call.
    func markStopped() -> Bool {
        lock.withLock {
            defer { isSet = true }
            return !isSet
        }
    }
}
