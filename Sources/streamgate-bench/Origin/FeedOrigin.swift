import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// One origin of the failover scenario: HTTP/1.1 on a free port of 127.0.0.1, listen backlog 4096, serving the
/// shared `FeedSchedule` at `/feed` (`FeedRequestHandler`) with its `tag` in every event's data. It keeps its
/// accepted connections (on its one event loop, so without a lock), so that `kill()` can drop them all at once as a
/// crashing process would.
final class FeedOrigin: Sendable {
    private let listener: any Channel
    private let connections: NIOLoopBoundBox<[ObjectIdentifier: any Channel]>
    let tag: Int

    var port: Int { listener.localAddress?.port ?? 0 }

    private init(listener: any Channel, connections: NIOLoopBoundBox<[ObjectIdentifier: any Channel]>, tag: Int) {
        self.listener = listener
        self.connections = connections
        self.tag = tag
    }

    static func start(group: any EventLoopGroup, schedule: FeedSchedule, tag: Int) async throws -> FeedOrigin {
        let loop = group.next()
        let connections = NIOLoopBoundBox.makeBoxSendingValue(
            [ObjectIdentifier: any Channel](),
            as: [ObjectIdentifier: any Channel].self,
            eventLoop: loop
        )
        let listener = try await ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let key = ObjectIdentifier(channel)
                connections.value[key] = channel
                channel.closeFuture.whenComplete { _ in connections.value[key] = nil }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FeedRequestHandler(schedule: schedule, tag: tag))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return FeedOrigin(listener: listener, connections: connections, tag: tag)
    }

    /// Connections open right now (accepted and not yet closed): one per stream the proxy holds here.
    func openConnections() async throws -> Int {
        let connections = self.connections
        return try await listener.eventLoop.submit { connections.value.count }.get()
    }

    /// Dies as a crashing process would, in one turn of its event loop: the listener closes (new connections are
    /// refused) and every accepted connection is reset: SO_LINGER 0 makes the close send RST rather than FIN.
    func kill() async {
        let listener = self.listener
        let connections = self.connections
        try? await listener.eventLoop.submit {
            listener.close(promise: nil)
            for connection in Array(connections.value.values) {
                if let provider = connection as? any SocketOptionProvider {
                    _ = provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                }
                connection.close(promise: nil)
            }
        }.get()
    }

    /// Closes the listener (unless `kill()` already did) and whatever connections are still open.
    func stop() async {
        let listener = self.listener
        let connections = self.connections
        try? await listener.eventLoop.submit {
            listener.close(promise: nil)
            for connection in Array(connections.value.values) {
                connection.close(promise: nil)
            }
        }.get()
    }
}
