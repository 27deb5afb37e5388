import NIOCore
import StreamGateConfig

/// One upstream as the admin view and the metrics show it: its balance policy and, per server, its state, weight,
/// streams in flight, connects in progress and streams waiting to connect, times taken out of the choice and the
/// last failure seen.
public struct UpstreamStatus: Sendable {
    public struct Server: Sendable {
        public var address: String
        public var weight: Int
        public var state: UpstreamServer.State
        public var streamsInFlight: Int
        /// New HTTP/1.1 connections being set up, and streams waiting for a slot to start one (`max_connecting`).
        public var connecting: Int
        public var waitingToConnect: Int
        public var ejections: Int
        public var lastFailure: String?
    }

    public var name: String
    public var balance: BalancePolicy
    public var servers: [Server]

    init(_ group: UpstreamGroup, at now: NIODeadline) {
        name = group.name
        balance = group.config.balance
        servers = group.servers.enumerated().map { index, server in
            let record = server.record
            return Server(
                address: server.address,
                weight: group.weight(of: index),
                state: server.state(at: now),
                streamsInFlight: max(0, server.streamsInFlight),
                connecting: max(0, server.connectsInProgress),
                waitingToConnect: max(0, server.connectsWaiting),
                ejections: record.ejections,
                lastFailure: record.lastFailure
            )
        }
    }
}
