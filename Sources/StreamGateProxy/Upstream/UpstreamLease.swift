#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// How one stream gets its upstream connection and gives it back: chooses the server of the route's upstream
/// (its `balance`, among the servers not ejected or down), takes an idle pooled connection to it or connects, and
/// when a connect fails (nothing was sent yet) records the failure for passive health and tries once more on
/// another server. With an `h2c` upstream the stream gets a stream of a shared HTTP/2 connection instead (a
/// WebSocket upgrade still gets an HTTP/1.1 connection of its own). The stream counts as in flight to its server
/// from the choice until the connection goes back to the pool or is closed. On the stream's loop.
struct UpstreamLease {
    let group: UpstreamGroup
    let pool: UpstreamConnectionPool

    /// Gets a connection for one stream; `completion` runs on the pool's loop, at once for a pooled connection.
    /// `forUpgrade` asks for an HTTP/1.1 connection whatever the upstream's protocol. `connectFailed` hears of
    /// each failed connect first; it answers whether another server may be tried (false when the stream no
    /// longer wants one). `isWanted` is asked before a connect that waited for a slot (`max_connecting`) starts.
    /// `avoiding` names a server to leave out while another one is in service (an event stream resuming after
    /// losing its upstream there).
    func acquire(
        forUpgrade: Bool = false,
        avoiding: Int? = nil,
        isWanted: @escaping () -> Bool,
        connectFailed: @escaping (UpstreamLeaseFailure) -> Bool,
        _ completion: @escaping (Result<any UpstreamExchange, UpstreamLeaseFailure>) -> Void
    ) {
        let multiplexed = group.config.protocol.isMultiplexed && !forUpgrade
        let excluded = avoiding.flatMap { hasServerInService(otherThan: $0) ? $0 : nil }
        let callbacks = Callbacks(isWanted: isWanted, connectFailed: connectFailed, completion: completion)
        attempt(multiplexed: multiplexed, after: nil, excluding: excluded, callbacks)
    }

    /// What the stream gave `acquire`, passed on to the retry.
    private struct Callbacks {
        var isWanted: () -> Bool
        var connectFailed: (UpstreamLeaseFailure) -> Bool
        var completion: (Result<any UpstreamExchange, UpstreamLeaseFailure>) -> Void
    }

    /// Some server of the group other than `index` may be chosen now (neither ejected nor down).
    func hasServerInService(otherThan index: Int?, now: NIODeadline = .now()) -> Bool {
        group.servers.indices.contains { $0 != index && group.servers[$0].isAvailable(at: now) }
    }

    /// One try; `earlier` is the server and failure of the try before (then this is the retry, and the last).
    private func attempt(
        multiplexed: Bool,
        after earlier: (server: Int, failure: UpstreamLeaseFailure)?,
        excluding excluded: Int? = nil,
        _ callbacks: Callbacks
    ) {
        let completion = callbacks.completion
        guard let index = pool.chooseServer(of: group, excluding: earlier?.server ?? excluded) else {
            // The balancer falls back to every server when all are down, so only an empty group gets here; the
            // stream is answered either way.
            completion(.failure(earlier?.failure ?? UpstreamLeaseFailure(noServerIn: group.name)))
            return
        }
        let server = group.servers[index]
        server.streamStarted()
        if !multiplexed, let idle = pool.takeIdle(group: group, server: index) {
            idle.carryStream(of: server)
            completion(.success(idle))
            return
        }
        let address = group.addressTexts[index]
        let group = self.group
        let opened = { (result: Result<any UpstreamExchange, any Error>) in
            switch result {
            case .success(let exchange):
                exchange.carryStream(of: server)
                completion(.success(exchange))
            case .failure(let error):
                server.streamEnded()
                let failure = UpstreamLeaseFailure(connecting: address, error: error)
                switch error as? UpstreamConnectionPool.ConnectNotStarted {
                case .noLongerWanted:
                    completion(.failure(failure))
                    return
                case .waitedPastTimeout:
                    // Nothing reached the server: the wait was StreamGate's own line, not the server's failure.
                    break
                case nil:
                    server.recordFailure(failure.description, policy: group.config.passiveHealth)
                }
                let mayRetry = callbacks.connectFailed(failure)
                if earlier == nil, mayRetry, group.servers.count > 1 {
                    attempt(multiplexed: multiplexed, after: (index, failure), callbacks)
                } else {
                    completion(.failure(failure))
                }
            }
        }
        if multiplexed {
            pool.multiplexed.openStream(group: group, server: index).assumeIsolated().whenComplete { result in
                opened(result.map { $0 })
            }
        } else {
            pool.connect(group: group, server: index, isWanted: callbacks.isWanted) { result in
                opened(result.map { $0 })
            }
        }
    }

    /// Takes back an exchange whose response ended cleanly and whose request was fully sent: an HTTP/1.1
    /// connection goes back to the pool, an HTTP/2 stream is let go (its connection stays with the others).
    func release(_ exchange: any UpstreamExchange) {
        if let connection = exchange as? UpstreamConnection {
            pool.release(connection, group: group)
        } else {
            exchange.close()
        }
    }

    /// The `ip:port` an exchange of this lease goes to.
    func address(of exchange: any UpstreamExchange) -> String {
        group.addressTexts[exchange.serverIndex]
    }

    /// A response head arrived on `connection`, or it failed before one (`failure` says how): passive health.
    func record(_ connection: any UpstreamExchange, failure: String?) {
        guard let server = connection.server else { return }
        if let failure {
            server.recordFailure(failure, policy: group.config.passiveHealth)
        } else {
            server.recordSuccess()
        }
    }
}

/// Why no upstream connection could be had, in words an operator can act on ("connection refused").
struct UpstreamLeaseFailure: Error, CustomStringConvertible {
    /// The server tried, `ip:port`.
    var address: String
    /// The connect attempt ran into `connect_timeout` (504) rather than failing (502).
    var timedOut: Bool
    var description: String

    init(connecting address: String, error: any Error) {
        self.address = address
        if case ChannelError.connectTimeout = error {
            timedOut = true
            description = "connect to \(address) timed out"
        } else if case UpstreamConnectionPool.ConnectNotStarted.waitedPastTimeout = error {
            timedOut = true
            description = "connect to \(address) timed out waiting for one of its max_connecting slots"
        } else if case UpstreamConnectionPool.ConnectNotStarted.noLongerWanted = error {
            timedOut = false
            description = "connect to \(address) not started: the stream ended while it waited for a slot"
        } else {
            timedOut = false
            description = "connect to \(address) failed: \(Self.reason(error))"
        }
    }

    init(noServerIn upstream: String) {
        address = upstream
        timedOut = false
        description = "upstream \(upstream) has no server to choose"
    }

    /// The system's words for the failed connect (`connection refused`), else the error's own description.
    static func reason(_ error: any Error) -> String {
        var underlying = error
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            underlying = first.error
        }
        if let io = underlying as? IOError, let text = strerror(io.errnoCode) {
            return String(cString: text).lowercased()
        }
        return "\(underlying)"
    }
}
