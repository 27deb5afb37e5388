import NIOCore
import Synchronization

/// The live downstream connections of all listeners, so shutdown can ask each to finish and then close the rest.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let nextID = Atomic<UInt64>(1)

    /// Registers `channel` until it closes; returns its connection id for logs.
    func register(_ channel: any Channel) -> UInt64 {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let key = ObjectIdentifier(channel)
        channels.withLock { $0[key] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLock { $0.removeValue(forKey: key) }
        }
        return id
    }

    var count: Int {
        channels.withLock { $0.count }
    }

    /// Tells every connection to finish its current response and close (HTTP/1.1: after the response in flight;
    /// HTTP/2: GOAWAY).
    func quiesceAll() {
        for channel in channels.withLock({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Tells every connection the drain period is over (WebSocket tunnels send Close 1001 to both sides).
    func goAwayAll() {
        for channel in channels.withLock({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ProxyGoingAwayEvent())
        }
    }

    func closeAll() {
        for channel in channels.withLock({ Array($0.values) }) {
            channel.close(promise: nil)
        }
    }
}
