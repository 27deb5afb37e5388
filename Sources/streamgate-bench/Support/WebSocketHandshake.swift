import Foundation
import StreamGateTLS

/// The RFC 6455 opening handshake's key arithmetic: a random `Sec-WebSocket-Key`, and the
/// `Sec-WebSocket-Accept` that answers it, base64(SHA-1(key + GUID)), SHA-1 from StreamGateTLS.
enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    static func randomKey() -> String {
        Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    static func accept(forKey key: String) -> String {
        Data(Digest.sha1(Array((key + guid).utf8))).base64EncodedString()
    }
}
