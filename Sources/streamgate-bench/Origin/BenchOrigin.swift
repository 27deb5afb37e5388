import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import StreamGateHTTP2

/// The origin every peer proxies to: NIO on 127.0.0.1, listen backlog 4096, on two free ports: HTTP/1.1 (with
/// WebSocket upgrades on `/ws`, and the `/ticker` feeds) on `port`, and HTTP/2 with prior knowledge (h2c,
/// `OriginHTTP2Responder`) on `http2Port` for peers with multiplexed upstreams. It runs on its own single event
/// loop, so its connection count (both ports) and its feeds need no lock; ask for them with `openConnections()`
/// and `tickerStats()`.
final class BenchOrigin: Sendable {
    private let http1Channel: any Channel
    private let http2Channel: any Channel
    private let counter: NIOLoopBoundBox<Int>
    private let tickers: TickerFeeds

    var port: Int { http1Channel.localAddress?.port ?? 0 }
    var http2Port: Int { http2Channel.localAddress?.port ?? 0 }

    /// The port for a peer whose upstreams speak `upstream`.
    func port(for upstream: OriginProtocol) -> Int {
        upstream == .h2c ? http2Port : port
    }

    private init(
        http1Channel: any Channel,
        http2Channel: any Channel,
        counter: NIOLoopBoundBox<Int>,
        tickers: TickerFeeds
    ) {
        self.http1Channel = http1Channel
        self.http2Channel = http2Channel
        self.counter = counter
        self.tickers = tickers
    }

    static func start(group: any EventLoopGroup) async throws -> BenchOrigin {
        let loop = group.next()
        let counter = NIOLoopBoundBox.makeBoxSendingValue(0, as: Int.self, eventLoop: loop)
        let tickers = TickerFeeds(eventLoop: loop)
        let http1 = try await listen(on: loop, counter: counter) { channel in
            let upgrade: NIOHTTPServerUpgradeConfiguration = (
                upgraders: [OriginWebSocketUpgrader()], completionHandler: { _ in }
            )
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withServerUpgrade: upgrade)
            try channel.pipeline.syncOperations.addHandler(OriginRequestHandler(tickers: tickers))
        }
        let http2: any Channel
        do {
            var logger = Logger(label: "streamgate-bench.origin")
            logger.logLevel = .error
            http2 = try await listen(on: loop, counter: counter) { [logger] channel in
                let responder = OriginHTTP2Responder(allocator: channel.allocator)
                try channel.pipeline.syncOperations.addHandler(
                    HTTP2ServerConnectionHandler(settings: OriginHTTP2Responder.settings, delegate: responder, logger: logger)
                )
            }
        } catch {
            try? await http1.close()
            throw error
        }
        return BenchOrigin(http1Channel: http1, http2Channel: http2, counter: counter, tickers: tickers)
    }

    /// A listener on a free port whose accepted channels count in `counter` and get `configure`d.
    private static func listen(
        on loop: any EventLoop,
        counter: NIOLoopBoundBox<Int>,
        configure: @escaping @Sendable (any Channel) throws -> Void
    ) async throws -> any Channel {
        try await ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                counter.value += 1
                channel.closeFuture.whenComplete { _ in counter.value -= 1 }
                return channel.eventLoop.makeCompletedFuture { try configure(channel) }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// Upstream connections open right now (accepted and not yet closed, on either port).
    func openConnections() async throws -> Int {
        try await http1Channel.eventLoop.submit { self.counter.value }.get()
    }

    /// The `/ticker` feeds' numbers as of now.
    func tickerStats() async throws -> TickerFeeds.Stats {
        let tickers = self.tickers
        return try await http1Channel.eventLoop.submit { tickers.stats() }.get()
    }

    func stop() async {
        let tickers = self.tickers
        try? await http1Channel.eventLoop.submit { tickers.stop() }.get()
        try? await http1Channel.close()
        try? await http2Channel.close()
    }
}

/// How a peer talks to the origin: HTTP/1.1 (every peer), or HTTP/2 with prior knowledge (StreamGate's
/// `protocol: h2c` upstreams).
enum OriginProtocol: String, Sendable {
    case http1
    case h2c
}
