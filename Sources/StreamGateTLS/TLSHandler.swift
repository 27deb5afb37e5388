import COpenSSL
import Logging
import NIOCore

/// TLS on one connection with OpenSSL over a BIO of our own (`ByteBufferBIO`), either side: terminating a client's
/// TLS (`init(context:...)`) or originating TLS to an upstream server (`init(upstream:serverName:...)`, which sends
/// the ClientHello as soon as the connection is up). OpenSSL reads the ciphertext from the socket's buffers,
/// plaintext goes up the pipeline as `ByteBuffer`s; plaintext written down the pipeline is encrypted into an
/// outbound buffer that is sent on flush. Knows nothing of HTTP.
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking
        case active
        case closing
        case closed
    }

    /// A new OpenSSL session for this connection, in accept or connect state.
    private let makeSession: () -> OpaquePointer?
    /// The client side speaks first: the handshake starts once the connection is active.
    private let initiatesHandshake: Bool
    private let handshakeTimeout: TimeAmount
    private let logger: Logger
    private var ssl: OpaquePointer?
    private var ciphertext: TLSCiphertextBuffers?
    private var state = State.handshaking
    private var handshakeTimer: Scheduled<Void>?
    /// Promises of plaintext writes not yet flushed as ciphertext; completed with the ciphertext write.
    private var unflushedPromises: [EventLoopPromise<Void>] = []
    /// Plaintext written before the handshake finished.
    private var bufferedWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var producedPlaintext = false

    /// The most plaintext one read takes: one TLS record's maximum.
    private static let readChunk = 16 * 1024

    /// The server side of a downstream connection, with the listener's certificates and ALPN.
    public init(context: TLSContext, handshakeTimeout: TimeAmount, logger: Logger) {
        makeSession = { context.makeSSL() }
        initiatesHandshake = false
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
    }

    /// The client side of an upstream connection to `serverName` (SNI unless it is an IP address, and the name
    /// the certificate is verified against when the context verifies).
    public init(upstream context: TLSUpstreamContext, serverName: String, handshakeTimeout: TimeAmount, logger: Logger) {
        makeSession = { context.makeSSL(serverName: serverName) }
        initiatesHandshake = true
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        let buffers = TLSCiphertextBuffers(allocator: context.channel.allocator)
        guard let ssl = makeSession() else {
            logger.error("TLS: cannot allocate an OpenSSL session: \(OpenSSLError.drainQueue())")
            context.close(promise: nil)
            return
        }
        guard let bio = ByteBufferBIO.make(over: buffers) else {
            SSL_free(ssl)
            logger.error("TLS: cannot allocate an OpenSSL BIO: \(OpenSSLError.drainQueue())")
            context.close(promise: nil)
            return
        }
        SSL_set_bio(ssl, bio, bio)
        self.ssl = ssl
        self.ciphertext = buffers
        if context.channel.isActive {
            startHandshake(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        if let ssl {
            SSL_free(ssl)  // frees the BIO
        }
        ssl = nil
        ciphertext = nil
        failPending(ChannelError.ioOnClosedChannel)
    }

    public func channelActive(context: ChannelHandlerContext) {
        startHandshake(context: context)
        context.fireChannelActive()
    }

    /// Arms the handshake timer; on the client side, also sends the ClientHello.
    private func startHandshake(context: ChannelHandlerContext) {
        guard handshakeTimer == nil, state == .handshaking else { return }
        startHandshakeTimer(context: context)
        if initiatesHandshake {
            advanceHandshake(context: context)
            flushCiphertext(context: context, promise: nil)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        handshakeTimer?.cancel()
        handshakeTimer = nil
        failPending(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let ciphertext, state == .handshaking || state == .active || state == .closing else { return }
        ciphertext.receive(unwrapInboundIn(data))
        if state == .handshaking {
            advanceHandshake(context: context)
        }
        if state == .active || state == .closing {
            readPlaintext(context: context)
        }
        flushCiphertext(context: context, promise: nil)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if producedPlaintext {
            producedPlaintext = false
            context.fireChannelReadComplete()
        }
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        guard let ssl else { return }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            state = .active
            handshakeTimer?.cancel()
            handshakeTimer = nil
            // What was written during the handshake goes first: whoever hears of the completion may write at once
            // (an HTTP/2 client's preface must precede the requests its connection is then handed).
            let buffered = bufferedWrites
            bufferedWrites.removeAll()
            for (buffer, promise) in buffered {
                encrypt(buffer, promise: promise, context: context)
            }
            context.fireUserInboundEventTriggered(completion(ssl))
            return
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE {
            return
        }
        var reason = OpenSSLError.drainQueue(fallback: "handshake failed (SSL error \(error))")
        let verification = SSL_get_verify_result(ssl)
        if initiatesHandshake, verification != X509_V_OK, let text = X509_verify_cert_error_string(verification) {
            reason += " (\(String(cString: text)))"
        }
        logger.info("TLS handshake failed: \(reason)")
        flushCiphertext(context: context, promise: nil)  // the alert, if OpenSSL produced one
        state = .closed
        context.fireUserInboundEventTriggered(TLSHandshakeFailed(reason: reason))
        context.close(promise: nil)
    }

    private func completion(_ ssl: OpaquePointer) -> TLSHandshakeCompleted {
        var alpnPointer: UnsafePointer<UInt8>?
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpnPointer, &alpnLength)
        var alpn: String?
        if let alpnPointer, alpnLength > 0 {
            alpn = String(decoding: UnsafeBufferPointer(start: alpnPointer, count: Int(alpnLength)), as: UTF8.self)
        }
        let serverName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? "unknown"
        return TLSHandshakeCompleted(alpnProtocol: alpn, serverName: serverName, protocolVersion: version)
    }

    private func readPlaintext(context: ChannelHandlerContext) {
        guard let ssl else { return }
        while state == .active || state == .closing {
            // Plaintext to come now is at most what OpenSSL holds decrypted plus the ciphertext it has not read: a
            // buffer that size (a 100-byte WebSocket message gets a small one, not a record's 16 KiB), and none
            // when both are empty (the read after the last record used to allocate one only to find nothing).
            let available = Int(SSL_pending(ssl)) + (ciphertext?.inboundBytes ?? 0)
            guard available > 0 || SSL_has_pending(ssl) == 1 else { return }
            let capacity = available > 0 ? min(available, Self.readChunk) : Self.readChunk
            var buffer = context.channel.allocator.buffer(capacity: capacity)
            ERR_clear_error()
            var result: Int32 = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { bytes in
                result = SSL_read(ssl, bytes.baseAddress, Int32(bytes.count))
                return result > 0 ? Int(result) : 0
            }
            if result > 0 {
                producedPlaintext = true
                context.fireChannelRead(wrapInboundOut(buffer))
                continue
            }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return
            case SSL_ERROR_ZERO_RETURN:
                // close_notify from the client: answer it and close.
                state = .closing
                _ = SSL_shutdown(ssl)
                flushCiphertext(context: context, promise: nil)
                context.close(promise: nil)
                state = .closed
                return
            default:
                logger.info("TLS read failed: \(OpenSSLError.drainQueue(fallback: "SSL error \(error)"))")
                state = .closed
                context.close(promise: nil)
                return
            }
        }
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = unwrapOutboundIn(data)
        switch state {
        case .handshaking:
            bufferedWrites.append((plaintext, promise))
        case .active, .closing:
            encrypt(plaintext, promise: promise, context: context)
        case .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        flushCiphertext(context: context, promise: nil)
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, state == .active, let ssl else {
            state = .closed
            context.close(mode: mode, promise: promise)
            return
        }
        state = .closing
        ERR_clear_error()
        _ = SSL_shutdown(ssl)  // queues close_notify; no need to wait for the client's
        let written = context.eventLoop.makePromise(of: Void.self)
        flushCiphertext(context: context, promise: written)
        written.futureResult.assumeIsolated().whenComplete { [weak self] _ in
            self?.state = .closed
            context.close(mode: .all, promise: promise)
        }
    }

    private func encrypt(_ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        guard let ssl else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var remaining = plaintext
        while remaining.readableBytes > 0 {
            ERR_clear_error()
            let written = remaining.withUnsafeReadableBytes { bytes in
                SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
            }
            guard written > 0 else {
                let reason = OpenSSLError.drainQueue(fallback: "SSL error \(SSL_get_error(ssl, written))")
                logger.info("TLS write failed: \(reason)")
                promise?.fail(ChannelError.ioOnClosedChannel)
                context.close(promise: nil)
                return
            }
            remaining.moveReaderIndex(forwardBy: Int(written))
        }
        if let promise {
            unflushedPromises.append(promise)
        }
    }

    /// Sends whatever ciphertext OpenSSL produced, completing the plaintext writes it carries.
    private func flushCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let promises = unflushedPromises
        unflushedPromises.removeAll(keepingCapacity: true)
        guard let ciphertext, ciphertext.hasOutbound else {
            promises.forEach { $0.succeed() }
            promise?.succeed()
            return
        }
        var combined = promise
        if !promises.isEmpty {
            let all = combined ?? context.eventLoop.makePromise(of: Void.self)
            all.futureResult.assumeIsolated().whenComplete { result in
                for each in promises {
                    each.completeWith(result)
                }
            }
            combined = all
        }
        ciphertext.takeOutbound { buffer, isLast in
            if isLast {
                context.writeAndFlush(wrapOutboundOut(buffer), promise: combined)
            } else {
                context.write(wrapOutboundOut(buffer), promise: nil)
            }
        }
    }

    private func startHandshakeTimer(context: ChannelHandlerContext) {
        guard handshakeTimer == nil, state == .handshaking else { return }
        // The task holds the handler until the handshake ends, the channel closes or the handler leaves (each
        // cancels it), or it fires. A weak capture would give the handler a side table, and NIO's retain of it on
        // every read and write the slow path.
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [self] in
            guard self.state == .handshaking else { return }
            self.logger.info("TLS handshake timed out after \(self.handshakeTimeout)")
            self.state = .closed
            context.fireUserInboundEventTriggered(TLSHandshakeFailed(reason: "timed out"))
            context.close(promise: nil)
        }
    }

    private func failPending(_ error: any Error) {
        let promises = unflushedPromises + bufferedWrites.compactMap(\.1)
        unflushedPromises.removeAll()
        bufferedWrites.removeAll()
        promises.forEach { $0.fail(error) }
    }
}
