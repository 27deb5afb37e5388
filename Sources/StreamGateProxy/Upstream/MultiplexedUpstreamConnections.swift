import NIOCore
import NIOPosix

/// The HTTP/2 upstream connections of one event loop, per upstream server: hands each new stream a connection
/// with room (fewest streams first, so a reload or GOAWAY spreads evenly), joins streams to a connect already on its
/// way rather than opening one connection per stream, and opens another connection only when every one is full
/// (the upstream's `max_streams_per_connection`, or the server's SETTINGS_MAX_CONCURRENT_STREAMS).
final class MultiplexedUpstreamConnections {
    private let eventLoop: any EventLoop
    private var open: [ServerKey: [UpstreamHTTP2Connection]] = [:]
    private var connecting: [ServerKey: [PendingConnect]] = [:]

    struct ServerKey: Hashable {
        var group: String
        var server: String
    }

    /// A connect in progress and how many streams already wait for it.
    private final class PendingConnect {
        let future: EventLoopFuture<UpstreamHTTP2Connection>
        var waiting = 0

        init(future: EventLoopFuture<UpstreamHTTP2Connection>) {
            self.future = future
        }
    }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// A stream to `server` of `group`, on a connection with room, or on one being connected.
    func openStream(group: UpstreamGroup, server: Int) -> EventLoopFuture<UpstreamHTTP2Stream> {
        let key = ServerKey(group: group.name, server: group.addressTexts[server])
        if let connection = open[key]?.filter(\.hasRoom).min(by: { $0.streamCount < $1.streamCount }) {
            return eventLoop.assumeIsolated().makeSucceededFuture(connection.makeStream())
        }
        let limit = group.config.maxStreamsPerConnection
        let pending: PendingConnect
        if let waiting = connecting[key]?.first(where: { $0.waiting < limit }) {
            pending = waiting
        } else {
            pending = PendingConnect(future: connect(group: group, server: server, key: key))
            connecting[key, default: []].append(pending)
        }
        pending.waiting += 1
        return pending.future.assumeIsolated().map { $0.makeStream() }.nonisolated()
    }

    /// Connections open now, for tests and the admin view.
    func connectionCount(group: String) -> Int {
        open.filter { $0.key.group == group }.reduce(0) { $0 + $1.value.count }
    }

    /// Closes every connection (shutdown); their streams fail as with any closed connection.
    func closeAll() {
        let all = open.values.flatMap { $0 }
        open.removeAll()
        for connection in all {
            connection.onRetired = nil
            connection.closeConnection()
        }
    }

    private func connect(group: UpstreamGroup, server: Int, key: ServerKey) -> EventLoopFuture<UpstreamHTTP2Connection> {
        let config = group.config
        let eventLoop = self.eventLoop
        let timeout = TimeAmount(config.connectTimeout)
        let handshake = NIOLoopBoundBox<EventLoopFuture<String?>?>(nil, eventLoop: eventLoop)
        let future = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = group.tls {
                        handshake.value = try tls.addHandshake(
                            to: channel, server: server, multiplexed: true, timeout: timeout, logger: UpstreamTLS.logger
                        )
                    }
                    let connection = try UpstreamHTTP2Connection(
                        serverIndex: server,
                        eventLoop: eventLoop,
                        maxStreams: config.maxStreamsPerConnection,
                        idleTimeout: TimeAmount(config.idleConnectionTimeout)
                    )
                    try channel.pipeline.syncOperations.addHandler(connection)
                }
            }
            .connect(to: group.addresses[server])
            .flatMap { channel in
                // Over TLS the server must choose h2: anything else would read our preface as garbage.
                let handshook = handshake.value.map { negotiated in
                    negotiated.flatMapThrowing { alpn in
                        guard alpn == "h2" else {
                            throw UpstreamTLSFailure(reason: "the server did not choose h2 by ALPN (chose \(alpn ?? "nothing"))")
                        }
                        return channel
                    }
                } ?? channel.eventLoop.makeSucceededFuture(channel)
                return handshook.flatMapErrorThrowing { error in
                    channel.close(promise: nil)
                    throw error
                }
            }
            .flatMapThrowing { channel in
                try channel.pipeline.syncOperations.handler(type: UpstreamHTTP2Connection.self)
            }
        future.assumeIsolated().whenComplete { [weak self] result in
            guard let self else { return }
            self.connecting[key]?.removeAll { $0.future === future }
            if self.connecting[key]?.isEmpty == true {
                self.connecting[key] = nil
            }
            guard case .success(let connection) = result else { return }
            self.open[key, default: []].append(connection)
            connection.onRetired = { [weak self] retired in
                self?.open[key]?.removeAll { $0 === retired }
            }
        }
        return future
    }
}
