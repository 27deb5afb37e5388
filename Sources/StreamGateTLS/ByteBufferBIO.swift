import COpenSSL
import NIOCore

/// The ciphertext of one TLS connection on its way through OpenSSL, in NIO's buffers: `inbound` holds what the
/// socket delivered and OpenSSL has not read yet; `outbound` collects what OpenSSL wrote until the handler sends
/// it. Owned by the handler; the BIO of `ByteBufferBIO` points at it unretained (the SSL, and with it the BIO, is
/// freed first). With OpenSSL's memory BIOs each byte was copied twice on its way out (into the BIO, whose growth
/// zeroes memory first, then out of it) and twice on its way in; here once each way.
final class TLSCiphertextBuffers {
    /// Read from the socket, not yet by OpenSSL; nil once drained, so an idle connection holds no read buffer.
    private var inbound: ByteBuffer?
    /// The buffer OpenSSL's writes go into, and the full ones before it (in order): a buffer is never grown, since
    /// growing copies what it holds; a write that does not fit starts the next one.
    private var outbound: ByteBuffer?
    private var filled: [ByteBuffer] = []
    private let allocator: ByteBufferAllocator

    /// Capacity of an outbound buffer after the first of a flush: four full TLS records and their overhead (the
    /// rest of the HTTP/2 layer's 64 KiB output fits in it). The first is sized to its record, since most flushes
    /// of an event stream are one small record, and a buffer the socket cannot take yet stays queued in NIO.
    private static let outboundCapacity = 4 * (16 * 1024 + 256)

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
    }

    /// Feeds bytes from the socket, after any OpenSSL has not read yet.
    func receive(_ ciphertext: ByteBuffer) {
        guard ciphertext.readableBytes > 0 else { return }
        if inbound == nil {
            inbound = ciphertext
        } else {
            var more = ciphertext
            inbound!.writeBuffer(&more)
        }
    }

    var inboundBytes: Int { inbound?.readableBytes ?? 0 }

    var hasOutbound: Bool { !filled.isEmpty || (outbound?.readableBytes ?? 0) > 0 }

    /// Hands over the ciphertext written so far, oldest buffer first; the next write starts a new buffer.
    func takeOutbound(_ body: (ByteBuffer, _ isLast: Bool) -> Void) {
        let last = outbound
        outbound = nil
        for index in filled.indices {
            body(filled[index], last == nil && index == filled.count - 1)
        }
        filled.removeAll(keepingCapacity: true)
        if let last {
            body(last, true)
        }
    }

    fileprivate func read(into destination: UnsafeMutableRawPointer, count: Int) -> Int {
        guard var buffer = inbound else { return 0 }
        inbound = nil  // not shared while it is read from, so moving its reader index does not copy it
        let taken = min(count, buffer.readableBytes)
        buffer.withUnsafeReadableBytes { bytes in
            destination.copyMemory(from: bytes.baseAddress!, byteCount: taken)
        }
        buffer.moveReaderIndex(forwardBy: taken)
        if buffer.readableBytes > 0 {
            inbound = buffer
        }
        return taken
    }

    fileprivate func write(_ source: UnsafeRawBufferPointer) {
        if let current = outbound, current.writableBytes < source.count {
            filled.append(current)
            outbound = nil
        }
        if outbound == nil {
            outbound = allocator.buffer(capacity: filled.isEmpty ? source.count : max(source.count, Self.outboundCapacity))
        }
        outbound!.writeBytes(source)
    }
}

/// An OpenSSL BIO (one `BIO_METHOD`, made once) that reads ciphertext from and writes it into a connection's
/// `TLSCiphertextBuffers`. Used as both the read and the write BIO of a server SSL.
enum ByteBufferBIO {
    /// A BIO over `buffers`, or nil when OpenSSL cannot allocate one. `SSL_set_bio(ssl, bio, bio)` hands it over.
    static func make(over buffers: TLSCiphertextBuffers) -> OpaquePointer? {
        guard let method = Method.shared.pointer, let bio = BIO_new(method) else { return nil }
        BIO_set_data(bio, Unmanaged.passUnretained(buffers).toOpaque())
        return bio
    }

    /// The `BIO_METHOD`; OpenSSL only reads it after setup, so sharing it between event loops is safe.
    private struct Method: @unchecked Sendable {
        let pointer: OpaquePointer?

        static let shared = Method()

        private init() {
            let type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK
            guard let method = BIO_meth_new(type, "streamgate ByteBuffer") else {
                pointer = nil
                return
            }
            BIO_meth_set_write(method, write)
            BIO_meth_set_read(method, read)
            BIO_meth_set_ctrl(method, control)
            BIO_meth_set_create(method, create)
            BIO_meth_set_destroy(method, destroy)
            pointer = method
        }
    }

    private static func buffers(of bio: OpaquePointer?) -> TLSCiphertextBuffers? {
        guard let bio, let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<TLSCiphertextBuffers>.fromOpaque(data).takeUnretainedValue()
    }

    private static let write: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32 = {
        bio, source, count in
        guard let buffers = buffers(of: bio), let source, count >= 0 else { return -1 }
        sg_BIO_clear_retry_flags(bio)
        buffers.write(UnsafeRawBufferPointer(start: source, count: Int(count)))
        return count
    }

    private static let read: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int32) -> Int32 = {
        bio, destination, count in
        guard let buffers = buffers(of: bio), let destination, count >= 0 else { return -1 }
        sg_BIO_clear_retry_flags(bio)
        let taken = buffers.read(into: destination, count: Int(count))
        if taken == 0 {
            // Nothing until the socket delivers more: OpenSSL reports SSL_ERROR_WANT_READ.
            sg_BIO_set_retry_read(bio)
            return -1
        }
        return Int32(taken)
    }

    private static let control: @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int = {
        bio, command, _, _ in
        switch command {
        case BIO_CTRL_FLUSH:
            // The handler sends on its own flush; nothing is held here.
            return 1
        case BIO_CTRL_PENDING:
            return buffers(of: bio)?.inboundBytes ?? 0
        case BIO_CTRL_WPENDING:
            return buffers(of: bio)?.hasOutbound == true ? 1 : 0
        default:
            return 0
        }
    }

    private static let create: @convention(c) (OpaquePointer?) -> Int32 = { bio in
        BIO_set_init(bio, 1)
        return 1
    }

    private static let destroy: @convention(c) (OpaquePointer?) -> Int32 = { bio in
        BIO_set_data(bio, nil)
        return 1
    }
}
