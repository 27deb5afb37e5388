import NIOCore
import NIOHTTP1
import NIOPosix

/// The origin every peer proxies to: NIO on 127.0.0.1, a free port, listen backlog 4096, HTTP/1.1 (with WebSocket
/// upgrades on `/ws`). It runs on its own single event loop, so its connection count needs no lock; ask for it
/// with `openConnections()`.
final class BenchOrigin: Sendable {
    private let channel: any Channel
    private let counter: NIOLoopBoundBox<Int>

    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, counter: NIOLoopBoundBox<Int>) {
        self.channel = channel
        self.counter = counter
    }

    static func start(group: any EventLoopGroup) async throws -> BenchOrigin {
        let loop = group.next()
        let counter = NIOLoopBoundBox.makeBoxSendingValue(0, as: Int.self, eventLoop: loop)
        let channel = try await ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                counter.value += 1
                channel.closeFuture.whenComplete { _ in counter.value -= 1 }
                return channel.eventLoop.makeCompletedFuture {
                    let upgrade: NIOHTTPServerUpgradeConfiguration = (
                        upgraders: [OriginWebSocketUpgrader()], completionHandler: { _ in }
                    )
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withServerUpgrade: upgrade)
                    try channel.pipeline.syncOperations.addHandler(OriginRequestHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return BenchOrigin(channel: channel, counter: counter)
    }

    /// Upstream connections open right now (accepted and not yet closed).
    func openConnections() async throws -> Int {
        try await channel.eventLoop.submit { self.counter.value }.get()
    }

    func stop() async {
        try? await channel.close()
    }
}
