import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The upstream connections of one event loop: idle keep-alive HTTP/1.1 connections per upstream server, the
/// shared HTTP/2 ones (`multiplexed`), the balancer's state for this loop, and the connector for new HTTP/1.1
/// connections. Used only on its event loop, so it needs no locks.
final class UpstreamConnectionPool {
    private let eventLoop: any EventLoop
    /// The `h2c` upstreams' connections.
    let multiplexed: MultiplexedUpstreamConnections
    private var idle: [PoolKey: [UpstreamConnection]] = [:]
    private var balancer = UpstreamBalancer()
    private var expiryTask: Scheduled<Void>?
    private var expiryDeadline: NIODeadline?
    /// New HTTP/1.1 connections per server: how many are connecting and who waits for a slot (`max_connecting`).
    private var connecting: [PoolKey: ConnectLine] = [:]

    private struct ConnectLine {
        /// Counts this line's slots and waiters with those of the other loops, for the admin view and metrics.
        let server: UpstreamServer
        var inProgress = 0
        var waiting = CircularBuffer<PendingConnect>()

        /// Takes a slot for `pending` (true: start it now) or puts it in line.
        mutating func admit(_ pending: PendingConnect, limit: Int) -> Bool {
            guard inProgress < limit else {
                waiting.append(pending)
                server.connectLineChanged(inProgress: 0, waiting: 1)
                return false
            }
            inProgress += 1
            server.connectLineChanged(inProgress: 1, waiting: 0)
            return true
        }

        /// A connect ended: its slot goes to the first in line (returned), or is freed.
        mutating func handOverSlot() -> PendingConnect? {
            if let next = waiting.popFirst() {
                server.connectLineChanged(inProgress: 0, waiting: -1)
                return next
            }
            inProgress -= 1
            server.connectLineChanged(inProgress: -1, waiting: 0)
            return nil
        }
    }

    /// Keys whose freed slot is still to be handed on, while a hand-over is in progress (`finishConnect`).
    private var slotsToHandOver: [PoolKey] = []
    private var handingOver = false

    /// A stream's request for a new connection, with the deadline its `connect_timeout` gives it.
    private struct PendingConnect {
        var group: UpstreamGroup
        var server: Int
        var deadline: NIODeadline
        /// Asked before a connect that waited in line starts: false once the stream has ended.
        var isWanted: () -> Bool
        var completion: (Result<UpstreamConnection, any Error>) -> Void
    }

    /// Why a connect that waited in line was never started.
    enum ConnectNotStarted: Error {
        /// The stream's `connect_timeout` ran out while it waited for a slot: a 504, not the server's failure.
        case waitedPastTimeout(TimeAmount)
        /// The stream ended while it waited.
        case noLongerWanted
    }

    /// Keyed by upstream name and server address, so a reload that reorders upstreams or changes a server list
    /// never hands a stream a connection to a server its upstream no longer has at that position.
    private struct PoolKey: Hashable {
        var group: String
        var server: String
    }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.multiplexed = MultiplexedUpstreamConnections(eventLoop: eventLoop)
    }

    /// How big each upstream read buffer is. NIO keeps the last read buffer of every channel for reuse, so an idle
    /// stream holds one buffer of the allocator's current size for as long as it lives. Starting small keeps idle
    /// streams cheap (a typical response head then takes one or two reads; the framer and NIO's decoder take heads
    /// in pieces); the allocator grows the buffer within a few reads when an upstream sends fast, up to 64 KiB.
    static let receiveBufferSizing = UpstreamReadSizing(minimum: 64, initial: 256, maximum: 65536)

    /// The server of `group` the next new stream should use (the group's `balance`, among the servers available),
    /// or nil when `excluding` was its only server.
    func chooseServer(of group: UpstreamGroup, excluding: Int? = nil) -> Int? {
        balancer.choose(in: group, excluding: excluding)
    }

    /// An idle pooled connection to `server` of `group`, if one is still open.
    func takeIdle(group: UpstreamGroup, server: Int) -> UpstreamConnection? {
        let key = PoolKey(group: group.name, server: group.addressTexts[server])
        while var list = idle[key], let connection = list.popLast() {
            idle[key] = list
            if connection.isActive {
                connection.handler.onInactive = nil
                connection.markReused()
                return connection
            }
        }
        return nil
    }

    /// Opens a new connection to `server` of `group` on this pool's event loop and calls `completion` with it once
    /// it can carry a request (over TLS, once the handshake is done), or with why not. At most `max_connecting`
    /// connects to one server are in progress on a loop; more wait in line, in order, and a wait counts against
    /// `connect_timeout` (one that outlasts it fails as a connect timeout would). So a burst of new streams does not
    /// open thousands of sockets to a server at once, and what each connect allocates for its duration is reused
    /// by the next instead of being freed in holes between thousands of streams' long-lived objects.
    func connect(
        group: UpstreamGroup,
        server: Int,
        isWanted: @escaping () -> Bool,
        _ completion: @escaping (Result<UpstreamConnection, any Error>) -> Void
    ) {
        let key = PoolKey(group: group.name, server: group.addressTexts[server])
        let pending = PendingConnect(
            group: group,
            server: server,
            deadline: .now() + TimeAmount(group.config.connectTimeout),
            isWanted: isWanted,
            completion: completion
        )
        // Mutated in place: a copy of the line would copy its waiting list at every change.
        let startsNow = connecting[key, default: ConnectLine(server: group.servers[server])]
            .admit(pending, limit: group.config.maxConnecting)
        if startsNow {
            start(pending, key: key)
        }
    }

    /// Starts `first`'s connect in a slot of `key`'s line; one whose time ran out while it waited fails as a connect
    /// timeout, one whose stream has ended is dropped, and the slot goes to the next in line.
    private func start(_ first: PendingConnect, key: PoolKey) {
        var pending = first
        while true {
            let remaining = pending.deadline - .now()
            if !pending.isWanted() {
                pending.completion(.failure(ConnectNotStarted.noLongerWanted))
            } else if remaining > .zero {
                let completion = pending.completion
                startConnect(group: pending.group, server: pending.server, timeout: remaining) { [self] result in
                    finishConnect(key: key)
                    completion(result)
                }
                return
            } else {
                let timeout = TimeAmount(pending.group.config.connectTimeout)
                pending.completion(.failure(ConnectNotStarted.waitedPastTimeout(timeout)))
            }
            guard let next = nextInLine(key: key) else { return }
            pending = next
        }
    }

    /// A connect of `key`'s line is over: its slot goes to the first that waits. A connect can fail inside
    /// `startConnect` (no file descriptor left, the loop shutting down) and call back here before it returns; such
    /// a slot is handed on by the outermost call, so a long line that fails at once is walked in a loop, not in a
    /// recursion as deep as the line.
    private func finishConnect(key: PoolKey) {
        slotsToHandOver.append(key)
        guard !handingOver else { return }
        handingOver = true
        while let key = slotsToHandOver.popLast() {
            if let next = nextInLine(key: key) {
                start(next, key: key)
            }
        }
        handingOver = false
    }

    /// Hands a freed slot of `key`'s line to the first that waits (returned), or frees it.
    private func nextInLine(key: PoolKey) -> PendingConnect? {
        if let next = connecting[key]?.handOverSlot() {
            return next
        }
        if connecting[key]?.inProgress == 0 {
            connecting[key] = nil
        }
        return nil
    }

    private func startConnect(
        group: UpstreamGroup,
        server: Int,
        timeout: TimeAmount,
        _ completion: @escaping (Result<UpstreamConnection, any Error>) -> Void
    ) {
        let tls = group.tls
        let handshake = tls.map { _ in NIOLoopBoundBox<EventLoopFuture<String?>?>(nil, eventLoop: eventLoop) }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: Self.receiveBufferSizing)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls, let handshake {
                        handshake.value = try tls.addHandshake(
                            to: channel, server: server, multiplexed: false, timeout: timeout, logger: UpstreamTLS.logger
                        )
                    }
                    // NIO's client codec for heads (1xx responses forwarded); bodies framed by our framer.
                    try channel.pipeline.syncOperations.addHandlers(UpstreamResponseFramer.handlers())
                }
            }
            .connect(to: group.addresses[server])
            .assumeIsolated()
            .whenComplete { connected in
                switch connected {
                case .failure(let error):
                    completion(.failure(error))
                case .success(let channel):
                    guard let handshook = handshake?.value else {
                        completion(Self.connection(on: channel, server: server))
                        return
                    }
                    handshook.assumeIsolated().whenComplete { result in
                        switch result {
                        case .success:
                            completion(Self.connection(on: channel, server: server))
                        case .failure(let error):
                            channel.close(promise: nil)
                            completion(.failure(error))
                        }
                    }
                }
            }
    }

    private static func connection(on channel: any Channel, server: Int) -> Result<UpstreamConnection, any Error> {
        do {
            let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHTTP1Handler.self)
            return .success(UpstreamConnection(channel: channel, handler: handler, serverIndex: server))
        } catch {
            channel.close(promise: nil)
            return .failure(error)
        }
    }

    /// Takes back a connection whose response ended cleanly and whose request was fully sent. Closes it instead
    /// when the pool for that server is full.
    func release(_ connection: UpstreamConnection, group: UpstreamGroup) {
        connection.handler.delegate = nil
        connection.streamEnded()
        guard connection.isActive else { return }
        let key = PoolKey(group: group.name, server: group.addressTexts[connection.serverIndex])
        var list = idle[key, default: []]
        guard list.count < group.config.maxIdleConnections else {
            connection.close()
            return
        }
        connection.idleDeadline = .now() + TimeAmount(group.config.idleConnectionTimeout)
        connection.handler.onInactive = { [weak self, weak connection] in
            guard let self, let connection else { return }
            self.forget(connection, key: key)
        }
        list.append(connection)
        idle[key] = list
        scheduleExpiry(at: connection.idleDeadline)
    }

    /// Closes every idle connection (shutdown).
    func closeAll() {
        multiplexed.closeAll()
        let all = idle.values.flatMap { $0 }
        idle.removeAll()
        expiryTask?.cancel()
        expiryTask = nil
        expiryDeadline = nil
        for connection in all {
            connection.close()
        }
    }

    private func forget(_ connection: UpstreamConnection, key: PoolKey) {
        idle[key]?.removeAll { $0 === connection }
    }

    private func scheduleExpiry(at deadline: NIODeadline) {
        if let scheduled = expiryDeadline, scheduled <= deadline { return }
        expiryTask?.cancel()
        expiryDeadline = deadline
        expiryTask = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.expireIdle()
        }
    }

    private func expireIdle() {
        expiryTask = nil
        expiryDeadline = nil
        let now = NIODeadline.now()
        var next: NIODeadline?
        for (key, list) in idle {
            var kept: [UpstreamConnection] = []
            for connection in list {
                if connection.idleDeadline <= now {
                    connection.close()
                } else {
                    kept.append(connection)
                    next = min(next ?? connection.idleDeadline, connection.idleDeadline)
                }
            }
            idle[key] = kept
        }
        if let next {
            scheduleExpiry(at: next)
        }
    }
}

extension TimeAmount {
    /// The same span as a Swift `Duration`, at nanosecond precision.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
