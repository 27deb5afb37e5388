import COpenSSL
import NIOCore

/// One client-side TLS session over memory BIOs: ciphertext in with `receiveCiphertext`, out with
/// `drainCiphertext`; plaintext with `readPlaintext` / `writePlaintext`. Knows nothing of HTTP/2.
public final class TLSClientEngine {
    public enum HandshakeState {
        case inProgress
        case done(alpn: String?)
        case failed(String)
    }

    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)

    public init(context: TLSClientContext) throws {
        guard let ssl = SSL_new(context.context) else {
            throw TLSClientContext.Failure(description: "SSL_new failed")
        }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSClientContext.Failure(description: "BIO_new failed")
        }
        _ = sg_BIO_set_mem_eof_return(readBIO, -1)
        _ = sg_BIO_set_mem_eof_return(writeBIO, -1)
        SSL_set_bio(ssl, readBIO, writeBIO)  // the SSL owns both BIOs now
        SSL_set_connect_state(ssl)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
    }

    deinit {
        SSL_free(ssl)
    }

    public func receiveCiphertext(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            _ = BIO_write(readBIO, base, Int32(bytes.count))
        }
    }

    public func handshake() -> HandshakeState {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            var data: UnsafePointer<UInt8>?
            var length: UInt32 = 0
            SSL_get0_alpn_selected(ssl, &data, &length)
            let alpn = data.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self) }
            return .done(alpn: alpn)
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE {
            return .inProgress
        }
        return .failed(Self.errorText(code: error))
    }

    /// Decrypts everything buffered, handing each plaintext chunk to `body`. Returns false when the peer sent
    /// close_notify or the session failed.
    public func readPlaintext(_ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        while true {
            ERR_clear_error()
            let count = readBuffer.withUnsafeMutableBytes { buffer in
                SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
            }
            if count > 0 {
                readBuffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<Int(count)])) }
                continue
            }
            let error = SSL_get_error(ssl, count)
            return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE
        }
    }

    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return true }
        ERR_clear_error()
        return SSL_write(ssl, base, Int32(bytes.count)) == Int32(bytes.count)
    }

    /// The ciphertext OpenSSL has produced since the last call, if any.
    public func drainCiphertext(allocator: ByteBufferAllocator) -> ByteBuffer? {
        let pending = BIO_ctrl_pending(writeBIO)
        guard pending > 0 else { return nil }
        var buffer = allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
            Int(max(0, BIO_read(writeBIO, bytes.baseAddress, Int32(pending))))
        }
        return buffer
    }

    private static func errorText(code: Int32) -> String {
        let detail = ERR_get_error()
        guard detail != 0 else { return "SSL error \(code)" }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(detail, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
