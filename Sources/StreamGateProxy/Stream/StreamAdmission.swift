import NIOCore
import NIOHTTP1

/// A client's request head as admission sees it, whichever protocol carried it (built by the HTTP/1.1 handler or
/// the HTTP/2 session, which add what only their protocol knows).
struct AdmissionRequest {
    /// How the request asks for a WebSocket.
    enum WebSocket {
        case none
        /// HTTP/1.1 `Upgrade: websocket`; `problem` says why the handshake is invalid, if it is.
        case upgrade(problem: String?)
        /// HTTP/2 extended CONNECT with `:protocol websocket` on a listener that accepts it (RFC 8441).
        case extendedConnect
    }

    var method: HTTPMethod
    /// The request target as sent (HTTP/2: `:path`).
    var uri: String
    /// The Host header (HTTP/2: `:authority`, else Host).
    var host: String?
    /// The regular fields, as they go upstream before rewriting.
    var headers: HTTPHeaders
    var webSocket: WebSocket = .none
    /// HTTP/1.1 (not 1.0) requires a Host header.
    var requiresHost = false
    /// `:protocol` of an HTTP/2 CONNECT that is not an accepted WebSocket, for the 501's reason.
    var connectProtocol: String?
    /// How many Host fields (HTTP/2: Host fields, plus one when `:authority` disagrees with them) the request
    /// carries: more than one is malformed (RFC 9112 section 3.2, RFC 9113 section 8.3.1).
    var hostFields = 1
    /// The client sends a body of unknown length, re-framed chunked upstream.
    var bodyIsChunked = false
    var clientAddress: SocketAddress?
    /// Why the head is over the connection's `max_header_bytes` (HTTP/2 header list), when it is.
    var headTooLarge: String?
    /// Message framing StreamGate will not forward (HTTP/1.1: a transfer coding other than chunked, or
    /// Transfer-Encoding on an HTTP/1.0 request), with the status that answers it.
    var framingProblem: (status: HTTPResponseStatus, reason: String)?

    var isWebSocket: Bool {
        if case .none = webSocket { return false }
        return true
    }
}

/// What admission decided for a request.
enum AdmissionDecision {
    /// StreamGate answers itself (400, 403, 404, 413, 431, 501).
    case local(HTTPResponseStatus, reason: String)
    /// Proxy to `route` with `upstreamHead` (hop-by-hop fields removed, X-Forwarded-* set, upgrade fields added
    /// for a WebSocket).
    case proxy(route: Route, upstreamHead: HTTPRequestHead, isWebSocket: Bool, host: String?)
}

/// The one path from a request head to a decision, for both protocols: parse and check the target, find the
/// route (404 when none), check a WebSocket handshake and its Origin, build the head sent upstream.
struct StreamAdmission {
    let rewriter: RequestHeaderRewriter

    /// The decision for `request` under `routes`, the table its event loop holds when the request arrives (so a
    /// reload applies to the next request on a connection that is already open).
    func admit(_ request: AdmissionRequest, routes: RouteTable) -> AdmissionDecision {
        if let reason = request.headTooLarge {
            return .local(.requestHeaderFieldsTooLarge, reason: reason)
        }
        if request.method == .CONNECT && !request.isWebSocket {
            let reason = request.connectProtocol.map { "CONNECT for \($0) is not supported" } ?? "CONNECT is not supported"
            return .local(.notImplemented, reason: reason)
        }
        let target: RequestTarget
        do {
            target = try RequestTarget(uri: request.uri)
        } catch {
            return .local(.badRequest, reason: error.description)
        }
        if request.requiresHost && request.host == nil {
            return .local(.badRequest, reason: "missing Host header")
        }
        if request.hostFields > 1 {
            return .local(.badRequest, reason: "more than one Host header")
        }
        if let framing = request.framingProblem {
            return .local(framing.status, reason: framing.reason)
        }
        // RFC 9112 section 3.2.2: an absolute-form target's authority replaces Host, both for routing and in the
        // Host sent upstream, so the origin sees the host the route was chosen for.
        let host = target.authority.map(String.init) ?? request.host
        if let host, let problem = HostField.problem(with: host) {
            return .local(.badRequest, reason: target.authority == nil ? problem : problem + " (absolute-form target)")
        }
        var headers = request.headers
        if let authority = target.authority {
            headers.replaceOrAdd(name: "host", value: String(authority))
        }
        guard let route = routes.route(host: host, path: target.path) else {
            return .local(.notFound, reason: "no route for \(host ?? "")\(target.path)")
        }
        if let limit = route.config.maxRequestBody,
            let length = request.headers.first(name: "content-length").flatMap(Int.init), length > limit
        {
            return .local(.payloadTooLarge, reason: "request body of \(length) bytes is over max_request_body \(limit)")
        }
        if case .upgrade(let problem?) = request.webSocket {
            return .local(.badRequest, reason: problem)
        }
        if request.isWebSocket && !WebSocketUpgrade.originAllowed(request.headers, config: route.config.websocket) {
            let origin = request.headers.first(name: "origin") ?? "none"
            return .local(.forbidden, reason: "WebSocket origin \(origin) is not allowed")
        }

        // RFC 8441 section 5: an extended CONNECT becomes an HTTP/1.1 Upgrade (a GET) toward the upstream.
        let method: HTTPMethod = request.isWebSocket ? .GET : request.method
        let forwarded = HTTPRequestHead(
            version: .http1_1,
            method: method,
            uri: String(target.originForm),
            headers: headers
        )
        var upstreamHead = rewriter.upstreamHead(
            for: forwarded,
            clientAddress: request.clientAddress,
            bodyIsChunked: request.bodyIsChunked,
            stripAcceptEncoding: EventStreamFilter.stripsAcceptEncoding(
                route: route.config,
                requestHeaders: request.headers
            )
        )
        if request.isWebSocket {
            WebSocketUpgrade.addUpgradeFields(to: &upstreamHead.headers)
        }
        // HTTP/1.1 upstream requests must carry Host (RFC 9112 3.2): an HTTP/1.0 client's request without one
        // gets the upstream's name, as nginx's default `Host: $proxy_host` does (no X-Forwarded-Host: it had none).
        if host == nil {
            upstreamHead.headers.add(name: "host", value: route.config.upstream)
        }
        return .proxy(route: route, upstreamHead: upstreamHead, isWebSocket: request.isWebSocket, host: host)
    }
}

extension AdmissionRequest {
    /// An HTTP/1.1 request head. `Expect` is left out: the HTTP/1.1 handler answers `100-continue` itself.
    init(http1 head: HTTPRequestHead, clientAddress: SocketAddress?) {
        var headers = head.headers
        headers.remove(name: "expect")
        self.init(
            method: head.method,
            uri: head.uri,
            host: head.headers.first(name: "host"),
            headers: headers,
            webSocket: WebSocketUpgrade.isUpgradeRequest(head) ? .upgrade(problem: WebSocketUpgrade.problem(with: head)) : .none,
            requiresHost: head.version.minor >= 1,
            hostFields: head.headers["host"].count,
            bodyIsChunked: head.headers[canonicalForm: "transfer-encoding"].last?.lowercased() == "chunked",
            clientAddress: clientAddress,
            framingProblem: Self.framingProblem(head)
        )
    }

    /// RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0 request is faulty framing (400); a transfer coding
    /// other than chunked is one StreamGate cannot decode or re-frame (501, as nginx answers).
    private static func framingProblem(_ head: HTTPRequestHead) -> (status: HTTPResponseStatus, reason: String)? {
        let codings = head.headers[canonicalForm: "transfer-encoding"]
        guard !codings.isEmpty else { return nil }
        if head.version.minor == 0 && head.version.major == 1 {
            return (.badRequest, "Transfer-Encoding in an HTTP/1.0 request")
        }
        if let other = codings.first(where: { $0.lowercased() != "chunked" }) {
            return (.notImplemented, "transfer coding \(other) is not supported")
        }
        if codings.count > 1 {
            return (.badRequest, "chunked applied more than once")
        }
        return nil
    }
}
