/// The validated, typed configuration of one StreamGate process: what the proxy runs from.
///
/// Produced only by `ConfigLoader`, which decodes the YAML, rejects unknown keys and validates every value, so code
/// holding a `StreamGateConfiguration` never re-checks it.
public struct StreamGateConfiguration: Sendable, Equatable {
    /// Path of the file this was loaded from (as given), for messages.
    public var sourcePath: String
    public var listeners: [ListenerConfig]
    public var admin: AdminConfig?
    public var upstreams: [UpstreamConfig]
    public var routes: [RouteConfig]

    public init(
        sourcePath: String,
        listeners: [ListenerConfig],
        admin: AdminConfig?,
        upstreams: [UpstreamConfig],
        routes: [RouteConfig]
    ) {
        self.sourcePath = sourcePath
        self.listeners = listeners
        self.admin = admin
        self.upstreams = upstreams
        self.routes = routes
    }

    /// The upstream with this name, if any.
    public func upstream(named name: String) -> UpstreamConfig? {
        upstreams.first { $0.name == name }
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
}

/// One downstream listening socket.
public struct ListenerConfig: Sendable, Equatable {
    public var name: String
    public var address: HostPort
    public var http2: HTTP2Config

    public init(name: String, address: HostPort, http2: HTTP2Config = HTTP2Config()) {
        self.name = name
        self.address = address
        self.http2 = http2
    }
}

/// HTTP/2 settings of a listener.
public struct HTTP2Config: Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients.
    public var maxConcurrentStreams: Int
    /// SETTINGS_INITIAL_WINDOW_SIZE advertised to clients (per-stream receive window, bytes).
    public var initialWindowSize: Int

    public init(maxConcurrentStreams: Int = 256, initialWindowSize: Int = 65_535) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
    }
}

/// The admin endpoint's listening address.
public struct AdminConfig: Sendable, Equatable {
    public var address: HostPort

    public init(address: HostPort) {
        self.address = address
    }
}

/// A named group of upstream (origin) servers, chosen round robin.
public struct UpstreamConfig: Sendable, Equatable {
    public var name: String
    public var servers: [HostPort]
    /// How long a TCP connect to one server may take before the stream gets a 504.
    public var connectTimeout: Duration
    /// Idle keep-alive connections kept per server and event loop.
    public var maxIdleConnections: Int
    /// How long an idle pooled connection is kept before it is closed.
    public var idleConnectionTimeout: Duration

    public init(
        name: String,
        servers: [HostPort],
        connectTimeout: Duration = .seconds(5),
        maxIdleConnections: Int = 32,
        idleConnectionTimeout: Duration = .seconds(60)
    ) {
        self.name = name
        self.servers = servers
        self.connectTimeout = connectTimeout
        self.maxIdleConnections = maxIdleConnections
        self.idleConnectionTimeout = idleConnectionTimeout
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

/// One route: a match, the upstream that serves it, and its timeouts.
public struct RouteConfig: Sendable, Equatable {
    public var match: RouteMatch
    public var upstream: String
    public var timeouts: RouteTimeouts

    public init(match: RouteMatch, upstream: String, timeouts: RouteTimeouts = RouteTimeouts()) {
        self.match = match
        self.upstream = upstream
        self.timeouts = timeouts
    }
}
