/// The validated, typed configuration of one StreamGate process: what the proxy runs from.
///
/// Produced only by `ConfigLoader`, which decodes the YAML, rejects unknown keys and validates every value, so code
/// holding a `StreamGateConfiguration` never re-checks it.
public struct StreamGateConfiguration: Sendable, Equatable {
    /// Path of the file this was loaded from (as given), for messages.
    public var sourcePath: String
    public var listeners: [ListenerConfig]
    public var admin: AdminConfig?
    public var log: LogConfig
    /// nil: no access log.
    public var accessLog: AccessLogConfig?
    public var upstreams: [UpstreamConfig]
    public var routes: [RouteConfig]
    /// How a shutdown (SIGTERM, SIGINT) ends what is open.
    public var drain: DrainConfig
    /// What one client may hold or send.
    public var limits: LimitsConfig

    public init(
        sourcePath: String,
        listeners: [ListenerConfig],
        admin: AdminConfig?,
        log: LogConfig = LogConfig(),
        accessLog: AccessLogConfig? = nil,
        upstreams: [UpstreamConfig],
        routes: [RouteConfig],
        drain: DrainConfig = DrainConfig(),
        limits: LimitsConfig = LimitsConfig()
    ) {
        self.sourcePath = sourcePath
        self.listeners = listeners
        self.admin = admin
        self.log = log
        self.accessLog = accessLog
        self.upstreams = upstreams
        self.routes = routes
        self.drain = drain
        self.limits = limits
    }

    /// The upstream with this name, if any.
    public func upstream(named name: String) -> UpstreamConfig? {
        upstreams.first { $0.name == name }
    }

    /// An error about the value at `location` in this configuration's file, for problems found after loading
    /// (e.g. OpenSSL rejecting a key): printed as `file:line: listeners[1].tls.private_key: message`.
    public func error(at location: ConfigLocation, _ message: String) -> ConfigError {
        ConfigError(file: sourcePath, line: location.line, keyPath: location.keyPath, message: message)
    }
}

/// Where a value was written in the configuration file: its key path and, when known, its 1-based line.
public struct ConfigLocation: Sendable, Equatable {
    /// E.g. `listeners[1].tls.certificate`.
    public var keyPath: String
    public var line: Int?

    public init(keyPath: String, line: Int? = nil) {
        self.keyPath = keyPath
        self.line = line
    }
}

/// A `host:port` pair as written in the config (`127.0.0.1:8080`, `[::1]:8080`, `localhost:3000`).
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    /// Host without brackets (`::1`, not `[::1]`).
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// The address as an operator writes it: IPv6 hosts in brackets.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether the host is a loopback address literal (127.0.0.0/8, ::1) or `localhost`.
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

extension String {
    /// The text without leading and trailing spaces, tabs and line ends.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

/// One downstream listening socket.
public struct ListenerConfig: Sendable, Equatable {
    public var name: String
    public var address: HostPort
    public var http2: HTTP2Config
    /// TLS termination settings; nil for a cleartext listener.
    public var tls: TLSConfig?
    /// Where `address` was given, for problems found when binding it (a reload adding the listener).
    public var addressLocation: ConfigLocation
    /// Open connections the listener takes at most; one more is closed at once (cleartext: after a 503). 0: no
    /// limit.
    public var maxConnections: Int

    public static let defaultMaxConnections = 10_000

    public init(
        name: String,
        address: HostPort,
        http2: HTTP2Config = HTTP2Config(),
        tls: TLSConfig? = nil,
        addressLocation: ConfigLocation = ConfigLocation(keyPath: ""),
        maxConnections: Int = ListenerConfig.defaultMaxConnections
    ) {
        self.name = name
        self.address = address
        self.http2 = http2
        self.tls = tls
        self.addressLocation = addressLocation
        self.maxConnections = maxConnections
    }
}

/// TLS settings of a listener: the default certificate, more chosen by SNI (RFC 6066 section 3), and how long a
/// downstream handshake may take.
public struct TLSConfig: Sendable, Equatable {
    /// Served when the client sends no server name or one no SNI certificate lists.
    public var certificate: CertificateConfig
    /// Certificates chosen by the client's server name, in file order.
    public var sniCertificates: [CertificateConfig]
    /// A downstream connection that has not completed its handshake after this long is closed.
    public var handshakeTimeout: Duration

    /// `handshake_timeout` when the file leaves it out.
    public static let defaultHandshakeTimeout: Duration = .seconds(10)

    public init(
        certificate: CertificateConfig,
        sniCertificates: [CertificateConfig] = [],
        handshakeTimeout: Duration = TLSConfig.defaultHandshakeTimeout
    ) {
        self.certificate = certificate
        self.sniCertificates = sniCertificates
        self.handshakeTimeout = handshakeTimeout
    }
}

/// One certificate chain and its private key (PEM files), with the server names it answers for and where each
/// file was named in the configuration, so later problems with the files can be reported there.
public struct CertificateConfig: Sendable, Equatable {
    /// PEM certificate chain, leaf first; relative paths are already resolved against the config file's folder.
    public var certificatePath: String
    /// PEM private key of the leaf certificate, resolved like `certificatePath`.
    public var privateKeyPath: String
    /// Lowercased host names and `*.suffix` patterns; empty for a listener's default certificate.
    public var serverNames: [String]
    /// Where `certificate` was given, e.g. `listeners[1].tls.certificate`.
    public var certificateLocation: ConfigLocation
    /// Where `private_key` was given.
    public var privateKeyLocation: ConfigLocation

    public init(
        certificatePath: String,
        privateKeyPath: String,
        serverNames: [String] = [],
        certificateLocation: ConfigLocation = ConfigLocation(keyPath: ""),
        privateKeyLocation: ConfigLocation = ConfigLocation(keyPath: "")
    ) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.serverNames = serverNames
        self.certificateLocation = certificateLocation
        self.privateKeyLocation = privateKeyLocation
    }
}

/// HTTP/2 settings of a listener.
public struct HTTP2Config: Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients.
    public var maxConcurrentStreams: Int
    /// SETTINGS_INITIAL_WINDOW_SIZE advertised to clients (per-stream receive window, bytes).
    public var initialWindowSize: Int
    /// Advertise SETTINGS_ENABLE_CONNECT_PROTOCOL and accept WebSockets over HTTP/2 (RFC 8441).
    public var websocket: Bool

    public init(maxConcurrentStreams: Int = 256, initialWindowSize: Int = 65_535, websocket: Bool = true) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.websocket = websocket
    }
}

/// The admin endpoint: where it listens, and the bearer token every request must carry when one is set (from
/// `token`, or read from `token_file` at load). A non-loopback address requires a token.
public struct AdminConfig: Sendable, Equatable {
    public var address: HostPort
    public var token: String?
    /// `GET /healthz` is answered without the token (for probes that cannot carry one, such as Kubernetes'
    /// kubelet); it tells only `ok` or `draining`. Everything else still needs the token.
    public var publicHealthz: Bool

    public init(address: HostPort, token: String? = nil, publicHealthz: Bool = false) {
        self.address = address
        self.token = token
        self.publicHealthz = publicHealthz
    }
}

/// The drain on SIGTERM or SIGINT: how long `/healthz` reports unready while the listeners still accept (so a load
/// balancer takes the instance out first), how long the drain may take, over how long event streams and WebSockets
/// are ended (so their clients reconnect elsewhere in a trickle, not a herd), the reconnection delay event streams
/// are told, and the Close code WebSocket clients get.
public struct DrainConfig: Sendable, Equatable {
    /// From the signal, `/healthz` answers 503 while everything else goes on serving, for this long; then the
    /// listeners close and the drain proper starts (HAProxy's `grace`). Part of `timeout`. Zero: none.
    public var grace: Duration
    /// At most this long from the signal to exit; what is still open then is closed.
    public var timeout: Duration
    /// Event streams and WebSockets open at the signal are ended one after another, evenly over this long.
    public var spread: Duration
    /// Sent to every event stream at the signal as `retry:` (each stream its own value, from half to one and a
    /// half times this, so the reconnects spread too); nil (`0s`) sends none.
    public var sseRetry: Duration?
    /// The Close code WebSocket clients get (1012, service restart, by default); the upstream side gets 1001.
    public var webSocketCloseCode: Int

    public static let defaultTimeout: Duration = .seconds(30)

    public init(
        grace: Duration = .zero,
        timeout: Duration = DrainConfig.defaultTimeout,
        spread: Duration = .seconds(10),
        sseRetry: Duration? = .seconds(2),
        webSocketCloseCode: Int = 1012
    ) {
        self.grace = grace
        self.timeout = timeout
        self.spread = spread
        self.sseRetry = sseRetry
        self.webSocketCloseCode = webSocketCloseCode
    }
}

/// Per-connection and per-stream limits of every listener: request head size and time (slowloris), how long an
/// idle connection is kept, and how much a stream may queue toward a client that reads slowly, and for how long.
/// A zero duration turns that timeout off.
public struct LimitsConfig: Sendable, Equatable {
    /// Largest request head (HTTP/1.1 request line and fields; HTTP/2 header list as RFC 9113 counts it): over it,
    /// 431.
    public var maxHeaderBytes: Int
    /// A request head not complete this long after the connection opened (its first request) or after its first
    /// byte (later requests) gets 408 and the connection closes.
    public var headerTimeout: Duration
    /// A connection with no stream in flight that sends nothing for this long is closed (HTTP/2: GOAWAY).
    public var clientIdleTimeout: Duration
    /// Response bytes one stream may queue toward its client before the upstream is no longer read.
    public var streamBufferBytes: Int
    /// A stream whose queue stays full this long is ended (an event stream at a boundary) as `slow_consumer`.
    public var slowConsumerTimeout: Duration

    /// NIO's HTTP/1.1 parser refuses heads past 80 KiB by itself.
    public static let maxHeaderBytesRange = 1024...(80 * 1024)
    public static let streamBufferBytesRange = 4096...(16 << 20)

    public init(
        maxHeaderBytes: Int = 64 * 1024,
        headerTimeout: Duration = .seconds(10),
        clientIdleTimeout: Duration = .seconds(75),
        streamBufferBytes: Int = 64 * 1024,
        slowConsumerTimeout: Duration = .seconds(30)
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.headerTimeout = headerTimeout
        self.clientIdleTimeout = clientIdleTimeout
        self.streamBufferBytes = streamBufferBytes
        self.slowConsumerTimeout = slowConsumerTimeout
    }
}

/// Text or JSON lines, for the operational log and the access log.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// The operational log: its format and level (`trace` ... `critical`; the command line can override both).
public struct LogConfig: Sendable, Equatable {
    public var format: LogFormat
    /// One of swift-log's level names.
    public var level: String

    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public init(format: LogFormat = .text, level: String = "info") {
        self.format = format
        self.level = level
    }
}

/// The access log: one line per finished stream, written off the event loops.
public struct AccessLogConfig: Sendable, Equatable {
    /// Where lines go: standard output, standard error, or a file (appended to, reopened on SIGHUP).
    public enum Destination: Sendable, Equatable {
        case standardOutput
        case standardError
        case file(String)
    }

    public var destination: Destination
    public var format: LogFormat

    public init(destination: Destination = .standardOutput, format: LogFormat = .text) {
        self.destination = destination
        self.format = format
    }
}

/// A named group of upstream (origin) servers: how a new stream picks one (`balance`, `weights`), when a failing
/// server is taken out of the choice for a while (passive health), and the optional active check.
public struct UpstreamConfig: Sendable, Equatable {
    public var name: String
    public var servers: [HostPort]
    /// The weight of each server in `servers`, same order (1 unless configured).
    public var weights: [Int]
    public var balance: BalancePolicy
    /// What StreamGate speaks to the servers: one HTTP/1.1 connection per stream, or HTTP/2 over cleartext with
    /// many streams on one connection.
    public var `protocol`: UpstreamProtocol
    /// With `h2c`: streams one connection carries before another is opened (fewer when the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS says so).
    public var maxStreamsPerConnection: Int
    /// How long a stream may wait for a TCP connect to one server (including its wait for a connect slot, below)
    /// before it gets a 504.
    public var connectTimeout: Duration
    /// HTTP/1.1 connects in progress per server and event loop; more wait in line, in order, within their
    /// `connectTimeout`. Keeps a burst of new streams (every client reconnecting at once) from opening thousands
    /// of sockets to a server in the same instant, and the proxy's memory from the holes so many connects at once
    /// leave behind.
    public var maxConnecting: Int
    /// Idle keep-alive connections kept per server and event loop.
    public var maxIdleConnections: Int
    /// How long an idle pooled connection is kept before it is closed.
    public var idleConnectionTimeout: Duration
    public var passiveHealth: PassiveHealthConfig
    public var healthCheck: HealthCheckConfig?
    /// TLS to the servers: always with `h2`, with `http1` when a `tls` block is given; nil for cleartext.
    public var tls: UpstreamTLSConfig?

    public init(
        name: String,
        servers: [HostPort],
        weights: [Int]? = nil,
        balance: BalancePolicy = .roundRobin,
        protocol: UpstreamProtocol = .http1,
        maxStreamsPerConnection: Int = 100,
        connectTimeout: Duration = .seconds(5),
        maxConnecting: Int = 64,
        maxIdleConnections: Int = 32,
        idleConnectionTimeout: Duration = .seconds(60),
        passiveHealth: PassiveHealthConfig = PassiveHealthConfig(),
        healthCheck: HealthCheckConfig? = nil,
        tls: UpstreamTLSConfig? = nil
    ) {
        self.name = name
        self.servers = servers
        self.weights = weights ?? Array(repeating: 1, count: servers.count)
        self.balance = balance
        self.protocol = `protocol`
        self.maxStreamsPerConnection = maxStreamsPerConnection
        self.connectTimeout = connectTimeout
        self.maxConnecting = maxConnecting
        self.maxIdleConnections = maxIdleConnections
        self.idleConnectionTimeout = idleConnectionTimeout
        self.passiveHealth = passiveHealth
        self.healthCheck = healthCheck
        self.tls = tls
    }
}

/// How StreamGate checks an upstream's servers over TLS: whom it trusts, and which name it asks for and verifies.
public struct UpstreamTLSConfig: Sendable, Equatable {
    /// PEM file of the CA certificates to trust (resolved against the config file's folder); nil: the system's
    /// trust store.
    public var caFile: String?
    /// Where `ca_file` was given, for errors found when it is loaded.
    public var caFileLocation: ConfigLocation?
    /// The name sent as SNI and verified in the certificate; nil: each server's own host (an IP address is
    /// verified against the certificate's IP entries and sends no SNI).
    public var serverName: String?
    /// Whether the chain and the name are verified (the default); off only for testing.
    public var verify: Bool

    public init(caFile: String? = nil, caFileLocation: ConfigLocation? = nil, serverName: String? = nil, verify: Bool = true) {
        self.caFile = caFile
        self.caFileLocation = caFileLocation
        self.serverName = serverName
        self.verify = verify
    }
}

/// The protocol of the connections to an upstream's servers.
public enum UpstreamProtocol: String, Sendable, CaseIterable {
    /// HTTP/1.1, one connection per stream in flight, idle ones pooled.
    case http1
    /// HTTP/2 with prior knowledge over cleartext TCP (RFC 9113 section 3.3): streams of many clients share a
    /// connection per event loop and server.
    case h2c
    /// HTTP/2 over TLS (ALPN `h2`), multiplexed as `h2c`.
    case h2

    /// Streams share connections (`h2c`, `h2`).
    public var isMultiplexed: Bool { self != .http1 }
}

/// How a new stream picks the server of its upstream, among the servers not ejected.
public enum BalancePolicy: String, Sendable, CaseIterable {
    /// In turn, in proportion to the weights (smooth weighted round robin, as nginx), per event loop.
    case roundRobin = "round_robin"
    /// The server with the fewest streams in flight for its weight, over all event loops: with streams that last
    /// hours, round robin leaves the servers as uneven as the streams' lifetimes.
    case leastStreams = "least_streams"
}

/// Passive health: `maxFails` failures of a server (a connect that fails or times out, a connection closed or reset
/// before the response head, no head within `response_header`) within `failWindow` take it out of the choice for
/// `ejectFor`. `maxFails` 0 turns this off. The defaults are nginx's (`max_fails=1 fail_timeout=10s`).
public struct PassiveHealthConfig: Sendable, Equatable {
    public var maxFails: Int
    public var failWindow: Duration
    public var ejectFor: Duration

    public init(maxFails: Int = 1, failWindow: Duration = .seconds(10), ejectFor: Duration = .seconds(10)) {
        self.maxFails = maxFails
        self.failWindow = failWindow
        self.ejectFor = ejectFor
    }
}

/// Active health: every `interval`, `GET path` to each server; a 2xx or 3xx within `timeout` passes. `fall` failed
/// checks in a row take a server out of the choice, `rise` passed ones bring it back (HAProxy's defaults).
public struct HealthCheckConfig: Sendable, Equatable {
    public var path: String
    public var interval: Duration
    public var timeout: Duration
    public var fall: Int
    public var rise: Int

    public init(
        path: String = "/healthz",
        interval: Duration = .seconds(5),
        timeout: Duration = .seconds(1),
        fall: Int = 3,
        rise: Int = 2
    ) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.fall = fall
        self.rise = rise
    }
}

/// Which requests a route takes: an optional host pattern and a path prefix.
public struct RouteMatch: Sendable, Equatable {
    public var host: HostPattern
    public var pathPrefix: String

    public init(host: HostPattern = .any, pathPrefix: String) {
        self.host = host
        self.pathPrefix = pathPrefix
    }
}

/// A host pattern: an exact name, a `*.example.com` suffix wildcard, or `*` (any host).
public enum HostPattern: Sendable, Hashable, CustomStringConvertible {
    /// `*` or no host given.
    case any
    /// Exact host name, lowercased, without port.
    case exact(String)
    /// `*.example.com`: holds the suffix with its leading dot (`.example.com`), lowercased.
    case suffix(String)

    public var description: String {
        switch self {
        case .any: return "*"
        case .exact(let name): return name
        case .suffix(let suffix): return "*" + suffix
        }
    }
}

/// Per-route stream timeouts. A zero duration means "no limit".
public struct RouteTimeouts: Sendable, Equatable {
    /// From the request being sent upstream until the response head arrives.
    public var responseHeader: Duration
    /// No bytes in either direction on the stream for this long ends it.
    public var idle: Duration
    /// The whole stream may last at most this long.
    public var maxLifetime: Duration

    public init(
        responseHeader: Duration = .seconds(60),
        idle: Duration = .seconds(600),
        maxLifetime: Duration = .zero
    ) {
        self.responseHeader = responseHeader
        self.idle = idle
        self.maxLifetime = maxLifetime
    }
}

/// One route: a match, the upstream that serves it, its timeouts, and how event streams and WebSocket tunnels on
/// it behave.
public struct RouteConfig: Sendable, Equatable {
    /// An optional name for logs, metrics and the admin view (else the route is named by host and path prefix).
    public var name: String?
    public var match: RouteMatch
    public var upstream: String
    public var timeouts: RouteTimeouts
    /// Settings for event streams on this route; the defaults when the route has no `sse:` block (a response is an
    /// event stream by its `Content-Type: text/event-stream`, on any route).
    public var sse: SSEConfig
    /// True when the route has an explicit `sse:` block (even an empty one): the proxy then treats every request
    /// on it as an event-stream request, before any response arrives.
    public var sseConfigured: Bool
    /// Settings for WebSocket tunnels on this route; the defaults when the route has no `websocket:` block.
    public var websocket: WebSocketConfig
    /// Largest request body the route takes, in bytes (413 over it); nil: no limit.
    public var maxRequestBody: Int?

    public init(
        match: RouteMatch,
        upstream: String,
        timeouts: RouteTimeouts = RouteTimeouts(),
        sse: SSEConfig = SSEConfig(),
        sseConfigured: Bool = false,
        websocket: WebSocketConfig = WebSocketConfig(),
        name: String? = nil,
        maxRequestBody: Int? = nil
    ) {
        self.maxRequestBody = maxRequestBody
        self.name = name
        self.match = match
        self.upstream = upstream
        self.timeouts = timeouts
        self.sse = sse
        self.sseConfigured = sseConfigured
        self.websocket = websocket
    }
}

/// How the proxy serves one route's server-sent event streams (WHATWG HTML, "Server-sent events",
/// https://html.spec.whatwg.org/multipage/server-sent-events.html).
public struct SSEConfig: Sendable, Equatable {
    /// When the proxy sends the response head to the client.
    public enum FirstByte: String, Sendable, CaseIterable {
        /// At once, followed by one heartbeat comment, so the client sees the stream open before the upstream
        /// sends anything.
        case immediate
        /// Only when the upstream's first byte arrives, so the upstream's status and headers pass unchanged.
        case upstream
    }

    /// What happens to the client's `Accept-Encoding` on the request sent upstream.
    public enum AcceptEncoding: String, Sendable, CaseIterable {
        /// Removed, so the upstream does not compress the stream (a compressed stream is buffered by the
        /// compressor, and the proxy cannot find event boundaries in it).
        case strip
        /// Passed on unchanged.
        case keep
    }

    /// How long the stream may be quiet before the proxy sends a comment line at an event boundary;
    /// `.zero` turns heartbeats off.
    public var heartbeatInterval: Duration
    /// The text after the colon of the heartbeat comment line: `""` sends `":\n\n"`. Never holds CR or LF.
    public var heartbeatComment: String
    /// When set, sent as the stream's first field (`retry: <milliseconds>`), the client's reconnection delay;
    /// at least 1ms and a whole number of milliseconds.
    public var retry: Duration?
    public var firstByte: FirstByte
    public var upstreamAcceptEncoding: AcceptEncoding
    /// Upstream failover with Last-Event-ID (`resume: true` and its settings); nil when off.
    public var resume: SSEResumeConfig?
    /// One upstream stream shared by every client asking for the same feed (`shared:`); nil when off.
    public var shared: SSESharedConfig?

    /// The largest event held back until it is whole, when the route forwards whole events only (with `resume` or
    /// `shared`); nil when bytes pass as they come.
    public var wholeEventLimit: Int? {
        guard resume != nil || shared != nil else { return nil }
        return max(resume?.maxEventBytes ?? 0, shared?.maxEventBytes ?? 0)
    }

    public init(
        heartbeatInterval: Duration = .seconds(15),
        heartbeatComment: String = "",
        retry: Duration? = nil,
        firstByte: FirstByte = .immediate,
        upstreamAcceptEncoding: AcceptEncoding = .strip,
        resume: SSEResumeConfig? = nil,
        shared: SSESharedConfig? = nil
    ) {
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatComment = heartbeatComment
        self.retry = retry
        self.firstByte = firstByte
        self.upstreamAcceptEncoding = upstreamAcceptEncoding
        self.resume = resume
        self.shared = shared
    }
}

/// Shared subscriptions (`sse.shared`): the clients of a route that ask for the same feed (same key) on one event
/// loop share one upstream stream; each event is kept once in a ring that late joiners replay from
/// (`Last-Event-ID`), and every subscriber reads the ring at its own pace.
public struct SSESharedConfig: Sendable, Equatable {
    /// What of a request, beyond the route and its Host, says which feed it wants.
    public enum KeyPart: Sendable, Equatable, Hashable {
        case path
        case query
        case cookie
        case authorization
        /// A request header, by lowercased name.
        case header(String)

        /// As written in the config.
        public var text: String {
            switch self {
            case .path: "path"
            case .query: "query"
            case .cookie: "cookie"
            case .authorization: "authorization"
            case .header(let name): "header:\(name)"
            }
        }
    }

    /// What a client whose Last-Event-ID is not in the ring gets.
    public enum Missed: String, Sendable, CaseIterable {
        /// A private upstream stream with its Last-Event-ID, as without `shared`.
        case upstream
        /// The live feed, after a comment saying events were missed.
        case join
    }

    public var key: [KeyPart]
    /// Events kept for late joiners, and the bytes they may hold at most.
    public var replayEvents: Int
    public var replayBytes: Int
    /// How long the shared upstream stays open after its last subscriber left.
    public var idleClose: Duration
    public var missed: Missed
    /// The largest event kept whole; a longer one ends the feed.
    public var maxEventBytes: Int

    public init(
        key: [KeyPart] = [.path, .query],
        replayEvents: Int = 1000,
        replayBytes: Int = 1024 * 1024,
        idleClose: Duration = .seconds(30),
        missed: Missed = .upstream,
        maxEventBytes: Int = 256 * 1024
    ) {
        self.key = key
        self.replayEvents = replayEvents
        self.replayBytes = replayBytes
        self.idleClose = idleClose
        self.missed = missed
        self.maxEventBytes = maxEventBytes
    }
}

/// How an event stream survives the failure of its upstream (`sse.resume: true`): the same request is opened
/// again, to another healthy server when there is one, with `Last-Event-ID` set to the last event the client got,
/// and the client's stream goes on with no error, gap or duplicate. Only whole events reach the client, so a
/// failover always falls on an event boundary.
public struct SSEResumeConfig: Sendable, Equatable {
    /// Failed attempts in a row after which the client stream ends (cleanly, at an event boundary).
    public var attempts: Int
    /// The wait before an attempt that cannot go to another healthy server, and before every later attempt;
    /// doubled per attempt up to `maximumBackoff`, and jittered.
    public var backoff: Duration
    /// A clean end of the upstream response is resumed too (origins that end their streams when they restart);
    /// otherwise it ends the client stream as it would without `resume`.
    public var onEnd: Bool
    /// The largest event held back until it is whole; a longer one passes in pieces, and a failure inside it
    /// cuts the client stream.
    public var maxEventBytes: Int

    /// The cap of the doubling backoff.
    public static let maximumBackoff = Duration.seconds(30)

    public init(attempts: Int = 3, backoff: Duration = .milliseconds(500), onEnd: Bool = false, maxEventBytes: Int = 256 * 1024) {
        self.attempts = attempts
        self.backoff = backoff
        self.onEnd = onEnd
        self.maxEventBytes = maxEventBytes
    }
}

/// How the proxy runs one route's WebSocket tunnels (RFC 6455; over HTTP/2, RFC 8441). A zero duration means
/// "no limit" for the timeouts and "off" for the ping intervals.
public struct WebSocketConfig: Sendable, Equatable {
    /// No frame in either direction for this long closes the tunnel.
    public var idleTimeout: Duration
    /// How often the proxy pings the client (downstream).
    public var pingInterval: Duration
    /// How often the proxy pings the upstream.
    public var upstreamPingInterval: Duration
    /// The whole tunnel may last at most this long.
    public var maxLifetime: Duration
    /// Origins whose upgrade requests are accepted, as browsers send them in `Origin` (`https://app.example`,
    /// `http://localhost:8080`): lowercased, default ports left out. Empty accepts any origin.
    public var allowedOrigins: [String]

    public init(
        idleTimeout: Duration = .seconds(600),
        pingInterval: Duration = .seconds(30),
        upstreamPingInterval: Duration = .zero,
        maxLifetime: Duration = .zero,
        allowedOrigins: [String] = []
    ) {
        self.idleTimeout = idleTimeout
        self.pingInterval = pingInterval
        self.upstreamPingInterval = upstreamPingInterval
        self.maxLifetime = maxLifetime
        self.allowedOrigins = allowedOrigins
    }
}
