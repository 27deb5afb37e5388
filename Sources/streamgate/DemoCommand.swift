import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StreamGateConfig
import StreamGateDemo
import StreamGateProxy
import StreamGateTLS

/// `streamgate demo`: StreamGate on https://localhost:8443 with a fresh self-signed certificate, in front of a
/// built-in origin whose page opens many EventSource streams over one HTTP/2 connection.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run StreamGate over TLS and HTTP/2 in front of a built-in demo origin."
    )

    @Option(help: "The HTTPS port on 127.0.0.1 (0: any free port).")
    var port: Int = 8443

    @Option(help: "The admin endpoint's port on 127.0.0.1 (0: any free port).")
    var adminPort: Int = 9901

    @Option(help: "How many EventSource streams the demo page opens.")
    var streams: Int = 50

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        LogSetup.bootstrap(level: logLevel, format: .text)
        let logger = Logger(label: "streamgate")
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("streamgate-demo-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let certificatePath = folder.appendingPathComponent("localhost.crt").path
        let keyPath = folder.appendingPathComponent("localhost.key").path
        try SelfSignedCertificate.write(
            commonName: "localhost",
            dnsNames: ["localhost"],
            ipAddresses: ["127.0.0.1"],
            certificatePath: certificatePath,
            privateKeyPath: keyPath
        )

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let origin = try await DemoOrigin.start(group: group, streams: max(1, streams))
        let config = Self.configuration(
            port: port,
            adminPort: adminPort,
            originPort: origin.port,
            certificate: CertificateConfig(certificatePath: certificatePath, privateKeyPath: keyPath)
        )
        logger.info("demo origin on 127.0.0.1:\(origin.port); certificate in \(folder.path) (removed on exit)")
        do {
            try await ProxyRuntime(config: config, group: group, logger: logger).run(drainTimeout: .seconds(2)) {
                proxy, admin in
                let bound = await proxy.listeningAddresses()["demo"]?.port ?? port
                logger.info("open https://localhost:\(bound)/ and accept the self-signed certificate")
                if let adminPort = await admin?.listeningAddress()?.port {
                    logger.info("admin dashboard: http://127.0.0.1:\(adminPort)/")
                }
            }
        } catch {
            logger.critical("streamgate demo stopped: \(error)")
            await origin.stop()
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        await origin.stop()
        try await group.shutdownGracefully()
    }

    /// The embedded configuration: one TLS listener, one upstream (the demo origin), long-lived event routes.
    static func configuration(
        port: Int,
        adminPort: Int,
        originPort: Int,
        certificate: CertificateConfig
    ) -> StreamGateConfiguration {
        StreamGateConfiguration(
            sourcePath: "<demo>",
            listeners: [
                ListenerConfig(
                    name: "demo",
                    address: HostPort(host: "127.0.0.1", port: port),
                    tls: TLSConfig(certificate: certificate)
                )
            ],
            admin: AdminConfig(address: HostPort(host: "127.0.0.1", port: adminPort)),
            upstreams: [UpstreamConfig(name: "demo-origin", servers: [HostPort(host: "127.0.0.1", port: originPort)])],
            routes: [
                RouteConfig(
                    match: RouteMatch(pathPrefix: "/events/"),
                    upstream: "demo-origin",
                    timeouts: RouteTimeouts(responseHeader: .seconds(10), idle: .seconds(3600), maxLifetime: .zero),
                    name: "events"
                ),
                RouteConfig(match: RouteMatch(pathPrefix: "/"), upstream: "demo-origin"),
            ]
        )
    }
}
