import COpenSSL
import Foundation

/// The RFC 6455 opening handshake's key arithmetic: a random `Sec-WebSocket-Key`, and the
/// `Sec-WebSocket-Accept` that answers it, base64(SHA-1(key + GUID)), SHA-1 from OpenSSL's libcrypto.
enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    static func randomKey() -> String {
        Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    static func accept(forKey key: String) -> String {
        let input = Array((key + guid).utf8)
        var digest = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let ok = input.withUnsafeBytes { bytes in
            EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha1(), nil)
        }
        guard ok == 1 else { return "" }
        return Data(digest.prefix(Int(length))).base64EncodedString()
    }
}
