import NIOCore
import NIOHTTP1
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// Builds state machines and reads their actions as short strings, so a test reads as the sequence of what the
/// stream does. Times are plain offsets from a fixed origin: no clock is read.
enum MachineTestSupport {
    static let allocator = ByteBufferAllocator()
    static let origin = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    /// `origin` plus `milliseconds`.
    static func at(_ milliseconds: Int64) -> NIODeadline {
        origin + .milliseconds(milliseconds)
    }

    static func machine(
        method: HTTPMethod = .GET,
        timeouts: RouteTimeouts = RouteTimeouts(),
        sse: SSEConfig = SSEConfig(),
        isWebSocket: Bool = false,
        startedAt: Int64 = 0
    ) -> ProxyStreamStateMachine {
        let config = RouteConfig(match: RouteMatch(pathPrefix: "/"), upstream: "app", timeouts: timeouts, sse: sse)
        let route = Route(index: 0, config: config, upstream: upstream)
        var headers = HTTPHeaders()
        headers.add(name: "host", value: "example.com")
        if isWebSocket {
            headers.add(name: "sec-websocket-key", value: webSocketKey)
        }
        return ProxyStreamStateMachine(
            route: route,
            upstreamHead: HTTPRequestHead(version: .http1_1, method: method, uri: "/x", headers: headers),
            isWebSocket: isWebSocket,
            now: at(startedAt)
        )
    }

    static func head(_ status: HTTPResponseStatus = .ok, contentType: String? = nil, keepAlive: Bool = true)
        -> HTTPResponseHead
    {
        var headers = HTTPHeaders()
        if let contentType {
            headers.add(name: "content-type", value: contentType)
        }
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        }
        return HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    }

    static let eventStreamHead = head(contentType: "text/event-stream")

    /// The key of RFC 6455 section 1.3's example, sent upstream by `machine(isWebSocket: true)`.
    static let webSocketKey = "dGhlIHNhbXBsZSBub25jZQ=="

    /// A 101 completing the handshake of `webSocketKey` (its accept value from RFC 6455 section 1.3), or with
    /// `accept` instead.
    static func upgradeHead(accept: String? = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", upgrade: String? = "websocket")
        -> HTTPResponseHead
    {
        var headers = HTTPHeaders()
        if let upgrade { headers.add(name: "upgrade", value: upgrade) }
        headers.add(name: "connection", value: "Upgrade")
        if let accept { headers.add(name: "sec-websocket-accept", value: accept) }
        return HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers)
    }

    /// The upstream of every test route; never connected to.
    static let upstream = UpstreamGroup(
        index: 0,
        config: UpstreamConfig(name: "app", servers: [HostPort(host: "127.0.0.1", port: 9)]),
        addresses: [try! SocketAddress(ipAddress: "127.0.0.1", port: 9)]
    )

    static func bytes(_ text: String) -> ByteBuffer {
        allocator.buffer(string: text)
    }

    /// A short description of an action, e.g. `write(head 200, ":\n\n", flush)`.
    static func describe(_ action: ProxyStreamStateMachine.Action) -> String {
        switch action {
        case .none: return "none"
        case .leaseUpstream: return "lease"
        case .retry: return "retry"
        case .sendRequest(_, let body, let end):
            return "sendRequest(body \(body.map(text).joined()), end \(end))"
        case .pauseRequestBody: return "pauseRequestBody"
        case .forwardRequestBody(let buffer): return "forwardRequestBody(\(text(buffer)))"
        case .forwardRequestEnd: return "forwardRequestEnd"
        case .writeResponse(let head, let body, let flush):
            var parts: [String] = []
            if let head { parts.append("head \(head.status.code)") }
            if let body { parts.append(text(body).debugDescription) }
            if flush { parts.append("flush") }
            return "write(\(parts.joined(separator: ", ")))"
        case .upgrade(let head): return "upgrade(\(head.status.code))"
        case .resumeUpstream: return "resumeUpstream"
        case .sendResumeRequest(let head):
            return "sendResumeRequest(Last-Event-ID \(head.headers.first(name: "last-event-id") ?? "none"))"
        case .finish(let ending):
            switch ending {
            case .respondLocally(let status, let reason): return "respond \(status.code): \(reason)"
            case .endCleanly(let head, let body, _):
                let headText = head.map { "head \($0.status.code), " } ?? ""
                return "endCleanly(\(headText)\(body.map(text)?.debugDescription ?? "nil"))"
            case .cut(let head, _, _): return head == nil ? "cut" : "cut(head \(head?.status.code ?? 0))"
            case .complete(let head, let reuse):
                return "complete(\(head.map { "head \($0.status.code), " } ?? "")reuse \(reuse))"
            case .clientGone: return "clientGone"
            }
        }
    }

    private static func text(_ buffer: ByteBuffer) -> String {
        String(buffer: buffer)
    }
}

extension ProxyStreamStateMachine {
    /// Starts and leases at `milliseconds`, as the shell would: the stream then waits for the response head.
    mutating func startAndLease(at milliseconds: Int64 = 0) {
        _ = start()
        _ = upstreamLeased(now: MachineTestSupport.at(milliseconds))
    }

    /// Runs the timer at `milliseconds` and describes what it did.
    mutating func fire(at milliseconds: Int64) -> String {
        MachineTestSupport.describe(deadlineReached(now: MachineTestSupport.at(milliseconds)))
    }

    mutating func body(_ text: String, at milliseconds: Int64) -> String {
        MachineTestSupport.describe(
            responseBodyReceived(
                MachineTestSupport.bytes(text),
                now: MachineTestSupport.at(milliseconds),
                allocator: MachineTestSupport.allocator
            )
        )
    }

    mutating func responseHead(_ head: HTTPResponseHead, at milliseconds: Int64) -> String {
        MachineTestSupport.describe(
            responseHeadReceived(head, now: MachineTestSupport.at(milliseconds), allocator: MachineTestSupport.allocator)
        )
    }

    /// The next deadline as (milliseconds from the origin, kind).
    var next: (Int64, Deadline)? {
        nextDeadline.map { (($0.at - MachineTestSupport.origin).nanoseconds / 1_000_000, $0.kind) }
    }

    var outcome: StreamOutcome? {
        if case .finished(let outcome) = state { return outcome }
        return nil
    }
}
