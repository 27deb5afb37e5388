import Logging
import NIOCore
import StreamGateConfig
import StreamGateTLS

/// The OpenSSL client contexts of one upstream over TLS, built when the configuration is loaded (so a bad CA file
/// is a config error at its key, not a failure on the first request): one offering ALPN `h2` for the multiplexed
/// connections of `protocol: h2`, one offering `http/1.1` for HTTP/1.1 connections (`protocol: http1` with
/// `tls`, and WebSocket upgrades to an `h2` upstream), and the name each server is asked for and verified as.
public struct UpstreamTLS: Sendable {
    let http2: TLSUpstreamContext?
    let http1: TLSUpstreamContext
    /// `tls.server_name`, else each server's own host; same order as the upstream's servers.
    let serverNames: [String]

    /// Where handshake failures are logged (the stream's log line names them too, as its connect failure).
    static let logger = Logger(label: "streamgate.upstream.tls")

    /// The contexts for `upstream`, or nil when it is cleartext; OpenSSL's objections to the CA file are config
    /// errors at `ca_file`.
    static func make(for upstream: UpstreamConfig, in config: StreamGateConfiguration) throws(ConfigError) -> UpstreamTLS? {
        guard let tls = upstream.tls else { return nil }
        do throws(TLSUpstreamContext.Failure) {
            let http1 = try TLSUpstreamContext(caFile: tls.caFile, verify: tls.verify, alpnProtocols: ["http/1.1"])
            let http2 =
                upstream.protocol == .h2
                ? try TLSUpstreamContext(caFile: tls.caFile, verify: tls.verify, alpnProtocols: ["h2"]) : nil
            let names = upstream.servers.map { tls.serverName ?? $0.host }
            return UpstreamTLS(http2: http2, http1: http1, serverNames: names)
        } catch {
            let location = tls.caFileLocation ?? ConfigLocation(keyPath: "upstreams[\(upstream.name)].tls")
            throw config.error(at: location, error.description)
        }
    }

    /// Loads every TLS upstream's CA file, as a start or reload will (for `streamgate check`); all errors collected.
    public static func validate(_ config: StreamGateConfiguration) throws(ConfigErrors) {
        var errors: [ConfigError] = []
        for upstream in config.upstreams {
            do {
                _ = try make(for: upstream, in: config)
            } catch {
                errors.append(error)
            }
        }
        if !errors.isEmpty {
            throw ConfigErrors(errors: errors)
        }
    }

    /// Adds TLS for `server` at the front of `channel`'s pipeline and returns the promise of the negotiated ALPN
    /// protocol, failed with `UpstreamTLSFailure` when the handshake does not complete within `timeout`.
    func addHandshake(
        to channel: any Channel,
        server: Int,
        multiplexed: Bool,
        timeout: TimeAmount,
        logger: Logger
    ) throws -> EventLoopFuture<String?> {
        let context = multiplexed ? (http2 ?? http1) : http1
        let promise = channel.eventLoop.makePromise(of: String?.self)
        try channel.pipeline.syncOperations.addHandlers([
            TLSHandler(upstream: context, serverName: serverNames[server], handshakeTimeout: timeout, logger: logger),
            UpstreamTLSHandshakeWatcher(promise: promise),
        ])
        return promise.futureResult
    }
}

/// The TLS handshake with an upstream server failed: OpenSSL's reason, with the verification error when there is
/// one ("certificate verify failed (self-signed certificate)"), or the wrong ALPN protocol.
struct UpstreamTLSFailure: Error, CustomStringConvertible {
    var reason: String
    var description: String { "TLS handshake failed: \(reason)" }
}

/// Sits above `TLSHandler` on an upstream connection until the handshake ends: completes the promise with the
/// negotiated ALPN protocol (or fails it), then leaves the pipeline.
private final class UpstreamTLSHandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var promise: EventLoopPromise<String?>?

    init(promise: EventLoopPromise<String?>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let completed = event as? TLSHandshakeCompleted {
            promise?.succeed(completed.alpnProtocol)
            promise = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } else if let failed = event as? TLSHandshakeFailed {
            promise?.fail(UpstreamTLSFailure(reason: failed.reason))
            promise = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(UpstreamTLSFailure(reason: "the server closed the connection during the handshake"))
        promise = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise?.fail(UpstreamTLSFailure(reason: "the connection closed during the handshake"))
        promise = nil
    }
}
