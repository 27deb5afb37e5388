/// The configuration document as written: every value optional, durations, addresses and host patterns still
/// strings. `ConfigValidator` turns it into `StreamGateConfiguration`. The coding keys are the YAML contract.
struct RawConfiguration: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case version, listeners, admin, upstreams, routes, log, drain, limits
        case accessLog = "access_log"
    }

    var version: Int?
    var listeners: RawList<RawListener>?
    var admin: RawAdmin?
    var log: RawLog?
    var accessLog: RawAccessLog?
    var upstreams: RawList<RawUpstream>?
    var routes: RawList<RawRoute>?
    var drain: RawDrain?
    var limits: RawLimits?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        version = reader.value(.version)
        drain = reader.value(.drain)
        limits = reader.value(.limits)
        listeners = reader.value(.listeners)
        admin = reader.value(.admin)
        log = reader.value(.log)
        accessLog = reader.value(.accessLog)
        upstreams = reader.value(.upstreams)
        routes = reader.value(.routes)
    }
}

struct RawListener: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case name, address, tls, http2
        case maxConnections = "max_connections"
    }

    var name: String?
    var address: String?
    var tls: RawTLS?
    var http2: RawHTTP2?
    var maxConnections: Int?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        maxConnections = reader.value(.maxConnections)
        name = reader.value(.name)
        address = reader.value(.address)
        tls = reader.value(.tls)
        http2 = reader.value(.http2)
    }
}

struct RawTLS: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case certificate
        case privateKey = "private_key"
        case handshakeTimeout = "handshake_timeout"
        case certificates
    }

    var certificate: String?
    var privateKey: String?
    var handshakeTimeout: String?
    var certificates: RawList<RawSNICertificate>?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        certificate = reader.value(.certificate)
        privateKey = reader.value(.privateKey)
        handshakeTimeout = reader.value(.handshakeTimeout)
        certificates = reader.value(.certificates)
    }
}

struct RawSNICertificate: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case certificate
        case privateKey = "private_key"
        case serverNames = "server_names"
    }

    var certificate: String?
    var privateKey: String?
    var serverNames: RawList<String>?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        certificate = reader.value(.certificate)
        privateKey = reader.value(.privateKey)
        serverNames = reader.value(.serverNames)
    }
}

struct RawHTTP2: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case maxConcurrentStreams = "max_concurrent_streams"
        case initialWindowSize = "initial_window_size"
        case websocket
    }

    var maxConcurrentStreams: Int?
    var initialWindowSize: Int?
    var websocket: Bool?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        maxConcurrentStreams = reader.value(.maxConcurrentStreams)
        initialWindowSize = reader.value(.initialWindowSize)
        websocket = reader.value(.websocket)
    }
}

struct RawAdmin: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case address, token
        case tokenFile = "token_file"
        case publicHealthz = "public_healthz"
    }

    var address: String?
    var token: String?
    var tokenFile: String?
    var publicHealthz: Bool?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        address = reader.value(.address)
        token = reader.value(.token)
        tokenFile = reader.value(.tokenFile)
        publicHealthz = reader.value(.publicHealthz)
    }
}

struct RawLog: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case format, level
    }

    var format: String?
    var level: String?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        format = reader.value(.format)
        level = reader.value(.level)
    }
}

struct RawAccessLog: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case path, format
    }

    var path: String?
    var format: String?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        path = reader.value(.path)
        format = reader.value(.format)
    }
}

struct RawUpstream: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case name, servers, balance
        case `protocol`
        case maxStreamsPerConnection = "max_streams_per_connection"
        case connectTimeout = "connect_timeout"
        case maxConnecting = "max_connecting"
        case maxIdleConnections = "max_idle_connections"
        case idleConnectionTimeout = "idle_connection_timeout"
        case maxFails = "max_fails"
        case failWindow = "fail_window"
        case ejectFor = "eject_for"
        case healthCheck = "health_check"
        case tls
    }

    var name: String?
    var servers: RawList<RawServer>?
    var balance: String?
    var `protocol`: String?
    var maxStreamsPerConnection: Int?
    var connectTimeout: String?
    var maxConnecting: Int?
    var maxIdleConnections: Int?
    var idleConnectionTimeout: String?
    var maxFails: Int?
    var failWindow: String?
    var ejectFor: String?
    var healthCheck: RawHealthCheck?
    var tls: RawUpstreamTLS?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        name = reader.value(.name)
        servers = reader.value(.servers)
        balance = reader.value(.balance)
        `protocol` = reader.value(.protocol)
        maxStreamsPerConnection = reader.value(.maxStreamsPerConnection)
        connectTimeout = reader.value(.connectTimeout)
        maxConnecting = reader.value(.maxConnecting)
        maxIdleConnections = reader.value(.maxIdleConnections)
        idleConnectionTimeout = reader.value(.idleConnectionTimeout)
        maxFails = reader.value(.maxFails)
        failWindow = reader.value(.failWindow)
        ejectFor = reader.value(.ejectFor)
        healthCheck = reader.value(.healthCheck)
        tls = reader.value(.tls)
    }
}

/// `upstreams[].tls`: `{ ca_file, server_name, verify }`.
struct RawUpstreamTLS: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case caFile = "ca_file"
        case serverName = "server_name"
        case verify
    }

    var caFile: String?
    var serverName: String?
    var verify: Bool?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        caFile = reader.value(.caFile)
        serverName = reader.value(.serverName)
        verify = reader.value(.verify)
    }
}

/// One upstream server: `host:port`, or `{ address: host:port, weight: 2 }`.
struct RawServer: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case address, weight
    }

    var address: String?
    var weight: Int?
    /// Written as a mapping (so its address is at `.address`).
    var isMapping = false

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            address = text
            return
        }
        let reader = try SectionReader(decoder, keys: Key.self)
        isMapping = true
        address = reader.value(.address)
        weight = reader.value(.weight)
    }
}

struct RawHealthCheck: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case path, interval, timeout, fall, rise
    }

    var path: String?
    var interval: String?
    var timeout: String?
    var fall: Int?
    var rise: Int?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        path = reader.value(.path)
        interval = reader.value(.interval)
        timeout = reader.value(.timeout)
        fall = reader.value(.fall)
        rise = reader.value(.rise)
    }
}

struct RawRoute: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case name, match, upstream, timeouts, sse, websocket
        case maxRequestBody = "max_request_body"
    }

    var name: String?
    var maxRequestBody: String?
    var match: RawRouteMatch?
    var upstream: String?
    var timeouts: RawRouteTimeouts?
    var sse: RawSSE?
    var websocket: RawWebSocket?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        name = reader.value(.name)
        match = reader.value(.match)
        upstream = reader.value(.upstream)
        timeouts = reader.value(.timeouts)
        sse = reader.value(.sse)
        websocket = reader.value(.websocket)
        maxRequestBody = reader.value(.maxRequestBody)
    }
}

struct RawRouteMatch: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case host
        case pathPrefix = "path_prefix"
    }

    var host: String?
    var pathPrefix: String?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        host = reader.value(.host)
        pathPrefix = reader.value(.pathPrefix)
    }
}

struct RawRouteTimeouts: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case responseHeader = "response_header"
        case idle
        case maxLifetime = "max_lifetime"
    }

    var responseHeader: String?
    var idle: String?
    var maxLifetime: String?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        responseHeader = reader.value(.responseHeader)
        idle = reader.value(.idle)
        maxLifetime = reader.value(.maxLifetime)
    }
}

struct RawSSE: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case heartbeatInterval = "heartbeat_interval"
        case heartbeatComment = "heartbeat_comment"
        case retry
        case firstByte = "first_byte"
        case upstreamAcceptEncoding = "upstream_accept_encoding"
        case resume
        case resumeAttempts = "resume_attempts"
        case resumeBackoff = "resume_backoff"
        case resumeOnEnd = "resume_on_end"
        case resumeMaxEvent = "resume_max_event"
        case shared
    }

    var heartbeatInterval: String?
    var heartbeatComment: String?
    var retry: String?
    var firstByte: String?
    var upstreamAcceptEncoding: String?
    var resume: Bool?
    var resumeAttempts: Int?
    var resumeBackoff: String?
    var resumeOnEnd: Bool?
    var resumeMaxEvent: String?
    var shared: RawSharedSubscription?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        heartbeatInterval = reader.value(.heartbeatInterval)
        heartbeatComment = reader.value(.heartbeatComment)
        retry = reader.value(.retry)
        firstByte = reader.value(.firstByte)
        upstreamAcceptEncoding = reader.value(.upstreamAcceptEncoding)
        resume = reader.value(.resume)
        resumeAttempts = reader.value(.resumeAttempts)
        resumeBackoff = reader.value(.resumeBackoff)
        resumeOnEnd = reader.value(.resumeOnEnd)
        resumeMaxEvent = reader.value(.resumeMaxEvent)
        shared = reader.value(.shared)
    }
}

struct RawSharedSubscription: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case key
        case replay
        case replayBytes = "replay_bytes"
        case idleClose = "idle_close"
        case missed
        case maxEvent = "max_event"
    }

    var key: RawList<String>?
    var replay: Int?
    var replayBytes: String?
    var idleClose: String?
    var missed: String?
    var maxEvent: String?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        key = reader.value(.key)
        replay = reader.value(.replay)
        replayBytes = reader.value(.replayBytes)
        idleClose = reader.value(.idleClose)
        missed = reader.value(.missed)
        maxEvent = reader.value(.maxEvent)
    }
}

struct RawWebSocket: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case idleTimeout = "idle_timeout"
        case pingInterval = "ping_interval"
        case upstreamPingInterval = "upstream_ping_interval"
        case maxLifetime = "max_lifetime"
        case allowedOrigins = "allowed_origins"
    }

    var idleTimeout: String?
    var pingInterval: String?
    var upstreamPingInterval: String?
    var maxLifetime: String?
    var allowedOrigins: RawList<String>?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        idleTimeout = reader.value(.idleTimeout)
        pingInterval = reader.value(.pingInterval)
        upstreamPingInterval = reader.value(.upstreamPingInterval)
        maxLifetime = reader.value(.maxLifetime)
        allowedOrigins = reader.value(.allowedOrigins)
    }
}

struct RawDrain: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case grace, timeout, spread
        case sseRetry = "sse_retry"
        case webSocketCloseCode = "websocket_close_code"
    }

    var grace: String?
    var timeout: String?
    var spread: String?
    var sseRetry: String?
    var webSocketCloseCode: Int?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        grace = reader.value(.grace)
        timeout = reader.value(.timeout)
        spread = reader.value(.spread)
        sseRetry = reader.value(.sseRetry)
        webSocketCloseCode = reader.value(.webSocketCloseCode)
    }
}

struct RawLimits: RawSection {
    enum Key: String, CodingKey, CaseIterable {
        case maxHeaderBytes = "max_header_bytes"
        case headerTimeout = "header_timeout"
        case clientIdleTimeout = "client_idle_timeout"
        case streamBufferBytes = "stream_buffer_bytes"
        case slowConsumerTimeout = "slow_consumer_timeout"
    }

    var maxHeaderBytes: String?
    var headerTimeout: String?
    var clientIdleTimeout: String?
    var streamBufferBytes: String?
    var slowConsumerTimeout: String?

    init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, keys: Key.self)
        maxHeaderBytes = reader.value(.maxHeaderBytes)
        headerTimeout = reader.value(.headerTimeout)
        clientIdleTimeout = reader.value(.clientIdleTimeout)
        streamBufferBytes = reader.value(.streamBufferBytes)
        slowConsumerTimeout = reader.value(.slowConsumerTimeout)
    }
}
