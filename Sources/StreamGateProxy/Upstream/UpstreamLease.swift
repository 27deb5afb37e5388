#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// How one stream gets its upstream connection and gives it back: chooses the server of the route's upstream
/// (round robin per event loop), takes an idle pooled connection to it or connects, and at the end returns the
/// connection to the pool or closes it. The place where balancing and health will plug in. On the stream's loop.
struct UpstreamLease {
    let group: UpstreamGroup
    let pool: UpstreamConnectionPool

    /// Gets a connection for one stream; `completion` runs on the pool's loop, at once for a pooled connection.
    func acquire(_ completion: @escaping (Result<UpstreamConnection, UpstreamLeaseFailure>) -> Void) {
        let server = pool.nextServer(of: group)
        if let idle = pool.takeIdle(group: group, server: server) {
            completion(.success(idle))
            return
        }
        let address = group.addressTexts[server]
        pool.connect(group: group, server: server).assumeIsolated().whenComplete { result in
            completion(result.mapError { UpstreamLeaseFailure(connecting: address, error: $0) })
        }
    }

    /// Takes back a connection whose response ended cleanly and whose request was fully sent.
    func release(_ connection: UpstreamConnection) {
        pool.release(connection, group: group)
    }

    /// The `ip:port` a connection of this lease goes to.
    func address(of connection: UpstreamConnection) -> String {
        group.addressTexts[connection.serverIndex]
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
        } else {
            timedOut = false
            description = "connect to \(address) failed: \(Self.reason(error))"
        }
    }

    /// The system's words for the failed connect (`connection refused`), else the error's own description.
    private static func reason(_ error: any Error) -> String {
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
