import NIOCore
import NIOHTTP1
import StreamGateConfig
import StreamGateTLS

/// The WebSocket opening handshake as a proxy sees it (RFC 6455 section 4; over HTTP/2, RFC 8441): which client
/// requests are upgrades, whether they are acceptable, and the HTTP/1.1 upgrade request sent upstream.
enum WebSocketUpgrade {
    /// Request fields of the handshake that pass through to the upstream untouched.
    static let forwardedFields = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol",
        "sec-websocket-extensions"]

    /// Whether an HTTP/1.1 request asks to upgrade to WebSocket (`Upgrade: websocket`).
    static func isUpgradeRequest(_ head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
    }

    /// Why an HTTP/1.1 upgrade request is not a valid WebSocket handshake, or nil when it is.
    static func problem(with head: HTTPRequestHead) -> String? {
        if head.method != .GET { return "WebSocket upgrade must use GET" }
        if head.version != .http1_1 { return "WebSocket upgrade needs HTTP/1.1" }
        if !head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }) {
            return "Connection header lacks \"upgrade\""
        }
        guard let key = head.headers.first(name: "sec-websocket-key"), key.utf8.count == 24 else {
            return "missing or malformed Sec-WebSocket-Key"
        }
        if head.headers.first(name: "sec-websocket-version") != "13" {
            return "Sec-WebSocket-Version must be 13"
        }
        return nil
    }

    /// Why an upstream's `101` does not complete the handshake StreamGate sent with `key` (RFC 6455 section 4.1:
    /// the client fails the connection), or nil when it does.
    static func problem(withUpgradeResponse head: HTTPResponseHead, key: String?) -> String? {
        guard head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }) else {
            return "upstream 101 without Upgrade: websocket"
        }
        guard let key else { return "no Sec-WebSocket-Key was sent upstream" }
        guard let accept = head.headers.first(name: "sec-websocket-accept") else {
            return "upstream 101 without Sec-WebSocket-Accept"
        }
        guard accept == Self.accept(forKey: key) else {
            return "upstream Sec-WebSocket-Accept does not match the key sent"
        }
        return nil
    }

    /// base64(SHA-1(key + the RFC 6455 GUID)): the `Sec-WebSocket-Accept` that answers `key`.
    static func accept(forKey key: String) -> String {
        Base64.encode(Digest.sha1(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
    }

    /// Whether the route's `allowed_origins` admit a request with these headers (an empty list admits all).
    static func originAllowed(_ headers: HTTPHeaders, config: WebSocketConfig) -> Bool {
        guard !config.allowedOrigins.isEmpty else { return true }
        guard let origin = headers.first(name: "origin")?.lowercased() else { return false }
        return config.allowedOrigins.contains(origin)
    }

    /// Adds the upgrade fields to a request head whose hop-by-hop fields were stripped. For a request that came as
    /// an HTTP/2 extended CONNECT, which has no key, a fresh `Sec-WebSocket-Key` and version 13 are added.
    static func addUpgradeFields(to headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: "connection", value: "Upgrade")
        headers.replaceOrAdd(name: "upgrade", value: "websocket")
        if !headers.contains(name: "sec-websocket-key") {
            var nonce = [UInt8](repeating: 0, count: 16)
            for index in nonce.indices { nonce[index] = UInt8.random(in: 0...255) }
            headers.add(name: "sec-websocket-key", value: Base64.encode(nonce))
        }
        if !headers.contains(name: "sec-websocket-version") {
            headers.add(name: "sec-websocket-version", value: "13")
        }
    }
}

/// Standard base64 (RFC 4648 section 4) of a few bytes, for handshake nonces.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0..<4 {
                if position <= chunk.count {
                    output.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 0x3F)])
                } else {
                    output.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
