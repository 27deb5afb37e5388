import COpenSSL

/// Message digests from OpenSSL's libcrypto, for the few places that need one outside TLS (the WebSocket
/// handshake's `Sec-WebSocket-Accept`, RFC 6455 section 4.2.2).
public enum Digest {
    /// SHA-1 of `bytes` (20 bytes); empty if libcrypto fails.
    public static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha1(), nil)
        }
        guard ok == 1 else { return [] }
        return Array(digest.prefix(Int(length)))
    }
}
