import Logging
import NIOCore
import NIOPosix
import StreamGateConfig
import NIOConcurrencyHelpers

/// The proxy's listening sockets, by configured address (`ListenerKey`). A reload keeps the socket of every address it still
/// lists (no accept gap: only the settings its next connections get change), binds the new ones and closes the
/// ones it dropped; connections already accepted stay wherever they are until they end.
actor ListenerSet {
    /// One bound socket and the settings its next accepted connection gets.
    private struct Bound {
        let channel: any Channel
        let slot: ListenerSlot
    }

    private var bound: [ListenerKey: Bound] = [:]
    private let group: any EventLoopGroup
    private let context: ProxyContext
    private let logger: Logger

    init(group: any EventLoopGroup, context: ProxyContext, logger: Logger) {
        self.group = group
        self.context = context
        self.logger = logger
    }

    /// Binds every listener of `generation` none is bound for yet, in file order, and returns the name and bound
    /// address of each one bound now. On a failure the sockets bound by this call are closed again (those bound
    /// before stay) and the error says which listener and why.
    func bindNew(_ generation: ProxyGeneration) async throws(ConfigErrors) -> [(name: String, address: SocketAddress?)] {
        var added: [(ListenerKey, Bound)] = []
        var errors: [ConfigError] = []
        for listener in generation.config.listeners where bound[ListenerKey(listener)] == nil {
            guard let settings = generation.listeners[ListenerKey(listener)] else { continue }
            let slot = ListenerSlot(settings)
            do {
                let channel = try await bind(listener.address, slot: slot)
                added.append((ListenerKey(listener), Bound(channel: channel, slot: slot)))
            } catch {
                let reason = BindError(listener: listener.name, address: "\(listener.address)", underlying: error)
                errors.append(generation.config.error(at: listener.addressLocation, "\(reason)"))
            }
        }
        guard errors.isEmpty else {
            for (_, entry) in added {
                try? await entry.channel.close()
            }
            throw ConfigErrors(errors: errors)
        }
        var report: [(name: String, address: SocketAddress?)] = []
        for (key, entry) in added {
            bound[key] = entry
            report.append((entry.slot.settings.config.name, entry.channel.localAddress))
        }
        return report
    }

    /// Points every kept socket at its settings in `generation` and closes the sockets `generation` no longer
    /// lists; returns the names of the closed ones.
    func retarget(_ generation: ProxyGeneration) async -> [String] {
        var removed: [String] = []
        for (key, entry) in bound {
            if let settings = generation.listeners[key] {
                entry.slot.settings = settings
            } else {
                removed.append(entry.slot.settings.config.name)
                bound[key] = nil
                try? await entry.channel.close()
            }
        }
        return removed
    }

    /// Stops accepting on every socket (shutdown).
    func closeAll() async {
        let channels = bound.values.map(\.channel)
        bound.removeAll()
        for channel in channels {
            try? await channel.close()
        }
    }

    private func bind(_ address: HostPort, slot: ListenerSlot) async throws -> any Channel {
        let context = self.context
        let baseLogger = logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                DownstreamConnectionSetup.configure(
                    channel,
                    settings: slot.settings,
                    limiter: slot.limiter,
                    context: context,
                    logger: baseLogger
                )
            }
            .bind(host: address.host, port: address.port)
            .get()
    }
}

/// The settings a listening socket hands its next connection (replaced by a reload, read once per accept) and
/// the count of its open connections (kept across reloads, like the socket).
final class ListenerSlot: Sendable {
    private let current: NIOLockedValueBox<ListenerSettings>
    let limiter = ConnectionLimiter()

    init(_ settings: ListenerSettings) {
        self.current = NIOLockedValueBox(settings)
    }

    var settings: ListenerSettings {
        get { current.withLockedValue { $0 } }
        set { current.withLockedValue { $0 = newValue } }
    }
}
