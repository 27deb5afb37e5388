import Logging
import NIOCore
import ServiceLifecycle
import StreamGateAdmin
import StreamGateConfig
import StreamGateProxy
import UnixSignals

/// A configured proxy with everything around it, as one service group: the access log and the metrics exporter
/// observing its streams, the admin endpoint when configured, and SIGHUP reopening the access log and reloading
/// the configuration file. On SIGTERM or SIGINT the proxy drains first (the admin answers `/healthz` 503
/// meanwhile), then the rest stops.
struct ProxyRuntime {
    let config: StreamGateConfiguration
    let group: any EventLoopGroup
    let logger: Logger
    /// Opened at once (a bad path fails before anything binds); closed by `close()` once the event loops are
    /// shut down, so the last streams' lines are written.
    let accessLog: AccessLog?

    init(config: StreamGateConfiguration, group: any EventLoopGroup, logger: Logger) throws {
        self.config = config
        self.group = group
        self.logger = logger
        self.accessLog = try config.accessLog.map { try AccessLog(config: $0) }
    }

    /// Writes out the access log's last lines; call after the event loop group has shut down.
    func close() {
        accessLog?.close()
    }

    /// Called once the proxy (and the admin endpoint, when configured) has bound its addresses.
    func run(
        drainTimeout: Duration?,
        onBound: @escaping @Sendable (ProxyServer, AdminServer?) async -> Void = { _, _ in }
    ) async throws {
        let metrics = MetricsExporter()
        var observers: [any StreamObserver] = [metrics]
        if let accessLog {
            observers.append(accessLog)
        }
        let server = try ProxyServer(
            config: config,
            group: group,
            logger: logger,
            drainTimeout: drainTimeout,
            observers: observers
        )
        let reloader = ConfigReloader(proxy: server, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var admin: AdminServer?
        if let settings = config.admin {
            let adminServer = AdminServer(
                config: settings,
                proxy: server,
                reloader: reloader,
                metrics: metrics,
                group: group,
                logger: logger
            )
            admin = adminServer
            services.append(.init(service: adminServer))
        }
        services.append(.init(service: HangupService(accessLog: accessLog, reloader: reloader, logger: logger)))
        services.append(.init(service: BoundNotifier(proxy: server, admin: admin, onBound: onBound)))
        // Shut down last to first: the proxy drains before the admin endpoint stops.
        services.append(.init(service: server))
        try await ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        ).run()
    }
}

/// SIGHUP: reopens the access log file (logrotate moved it), then reloads the configuration file (nginx's and
/// HAProxy's signal for both). Runs until graceful shutdown.
struct HangupService: Service {
    let accessLog: AccessLog?
    let reloader: ConfigReloader
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            if let accessLog {
                accessLog.reopen()
                logger.info("SIGHUP: access log reopened")
            }
            _ = await reloader.reload(trigger: "SIGHUP")
        }
    }
}

/// Waits for the proxy's listeners and the admin listener to be bound, reports them once, then idles until
/// graceful shutdown.
struct BoundNotifier: Service {
    let proxy: ProxyServer
    let admin: AdminServer?
    let onBound: @Sendable (ProxyServer, AdminServer?) async -> Void

    func run() async throws {
        _ = await proxy.listeningAddresses()
        _ = await admin?.listeningAddress()
        await onBound(proxy, admin)
        try? await gracefulShutdown()
    }
}
