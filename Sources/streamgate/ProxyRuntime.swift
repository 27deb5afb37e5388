import Logging
import NIOCore
import ServiceLifecycle
import StreamGateAdmin
import StreamGateConfig
import StreamGateProxy
import UnixSignals

/// A configured proxy with everything around it, as one service group: the access log and the metrics exporter
/// observing its streams, the admin endpoint when configured, and SIGHUP reopening the access log. On SIGTERM or
/// SIGINT the proxy drains first (the admin answers `/healthz` 503 meanwhile), then the rest stops.
struct ProxyRuntime {
    let config: StreamGateConfiguration
    let group: any EventLoopGroup
    let logger: Logger

    /// Called once the proxy (and the admin endpoint, when configured) has bound its addresses.
    func run(
        drainTimeout: Duration,
        onBound: @escaping @Sendable (ProxyServer, AdminServer?) async -> Void = { _, _ in }
    ) async throws {
        let metrics = MetricsExporter()
        var observers: [any StreamObserver] = [metrics]
        var accessLog: AccessLog?
        if let settings = config.accessLog {
            let log = try AccessLog(config: settings)
            accessLog = log
            observers.append(log)
        }
        defer { accessLog?.close() }
        let server = try ProxyServer(
            config: config,
            group: group,
            logger: logger,
            drainTimeout: drainTimeout,
            observers: observers
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var admin: AdminServer?
        if let settings = config.admin {
            let adminServer = AdminServer(
                config: settings,
                proxy: server,
                configuration: config,
                metrics: metrics,
                group: group,
                logger: logger
            )
            admin = adminServer
            services.append(.init(service: adminServer))
        }
        services.append(.init(service: HangupService(accessLog: accessLog, logger: logger)))
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

/// SIGHUP: reopens the access log file (logrotate moved it). Runs until graceful shutdown.
struct HangupService: Service {
    let accessLog: AccessLog?
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            accessLog?.reopen()
            logger.info("SIGHUP: access log reopened")
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
