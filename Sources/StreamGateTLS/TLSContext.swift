import COpenSSL

/// A certificate chain and its private key (PEM files), with the server names it answers for through SNI.
public struct TLSCertificateFiles: Sendable, Equatable {
    public var certificatePath: String
    public var privateKeyPath: String
    /// Exact names (`a.example`) or `*.example` wildcards. Empty for the default certificate.
    public var serverNames: [String]

    public init(certificatePath: String, privateKeyPath: String, serverNames: [String] = []) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.serverNames = serverNames
    }
}

/// Why a TLS context could not be built, naming which file and what OpenSSL said.
public struct TLSContextError: Error, Sendable, CustomStringConvertible {
    public enum Field: Sendable { case certificate, privateKey, other }
    /// Which certificate of the listener (0 = the default one, 1... = the SNI ones in order).
    public var certificateIndex: Int
    public var field: Field
    public var message: String
    public var description: String { message }
}

/// One listener's OpenSSL server configuration: an `SSL_CTX` per certificate (the first is the default, the others
/// are chosen by SNI), TLS 1.2 minimum, a modern cipher list and ALPN. Built once per listener and shared by all its
/// connections; after init it is only read (`SSL_new`), so sharing it across event loops is safe.
public final class TLSContext: @unchecked Sendable {
    /// ALPN identifiers in server preference order.
    public let alpnProtocols: [String]
    private let defaultContext: OpaquePointer
    private let sniContexts: [(names: [String], context: OpaquePointer)]
    /// The ALPN list in wire format, kept alive for OpenSSL's select callback.
    let alpnWire: UnsafeMutableBufferPointer<UInt8>

    /// Mozilla's "intermediate" TLS 1.2 suites; TLS 1.3 uses OpenSSL's defaults.
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    public init(
        certificate: TLSCertificateFiles,
        sniCertificates: [TLSCertificateFiles] = [],
        alpnProtocols: [String] = ["h2", "http/1.1"]
    ) throws(TLSContextError) {
        self.alpnProtocols = alpnProtocols
        var wire: [UInt8] = []
        for name in alpnProtocols {
            wire.append(UInt8(name.utf8.count))
            wire.append(contentsOf: name.utf8)
        }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, wire.count))
        _ = buffer.initialize(from: wire)
        self.alpnWire = UnsafeMutableBufferPointer(rebasing: buffer[0..<wire.count])

        var built: [OpaquePointer] = []
        do {
            let primary = try Self.makeContext(certificate, index: 0)
            built.append(primary)
            var sni: [(names: [String], context: OpaquePointer)] = []
            for (offset, files) in sniCertificates.enumerated() {
                let context = try Self.makeContext(files, index: offset + 1)
                built.append(context)
                sni.append((files.serverNames.map { $0.lowercased() }, context))
            }
            self.defaultContext = primary
            self.sniContexts = sni
        } catch {
            built.forEach { SSL_CTX_free($0) }
            buffer.deallocate()
            throw error
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        for context in built {
            SSL_CTX_set_alpn_select_cb(context, alpnSelectCallback, me)
            if !sniContexts.isEmpty {
                sg_SSL_CTX_set_tlsext_servername_callback(context, serverNameCallback)
                sg_SSL_CTX_set_tlsext_servername_arg(context, me)
            }
        }
    }

    deinit {
        SSL_CTX_free(defaultContext)
        sniContexts.forEach { SSL_CTX_free($0.context) }
        UnsafeMutableBufferPointer(start: alpnWire.baseAddress, count: max(1, alpnWire.count)).deallocate()
    }

    /// A new `SSL` for one connection, in server mode.
    func makeSSL() -> OpaquePointer? {
        guard let ssl = SSL_new(defaultContext) else { return nil }
        SSL_set_accept_state(ssl)
        return ssl
    }

    /// The context whose server names cover `name` (exact first, then the longest `*.` wildcard).
    func context(forServerName name: String) -> OpaquePointer? {
        let name = name.lowercased()
        if let exact = sniContexts.first(where: { $0.names.contains(name) }) {
            return exact.context
        }
        var best: (length: Int, context: OpaquePointer)?
        for entry in sniContexts {
            for pattern in entry.names where pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst()
                if name.hasSuffix(suffix), name.count > suffix.count, suffix.count > (best?.length ?? 0) {
                    best = (suffix.count, entry.context)
                }
            }
        }
        return best?.context
    }

    private static func makeContext(_ files: TLSCertificateFiles, index: Int) throws(TLSContextError)
        -> OpaquePointer
    {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSContextError(certificateIndex: index, field: .other, message: OpenSSLError.drainQueue())
        }
        func fail(_ field: TLSContextError.Field, _ what: String) -> TLSContextError {
            SSL_CTX_free(context)
            return TLSContextError(
                certificateIndex: index,
                field: field,
                message: "\(what): \(OpenSSLError.drainQueue())"
            )
        }
        guard sg_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw fail(.other, "cannot require TLS 1.2")
        }
        SSL_CTX_set_options(context, sg_server_options())
        _ = sg_SSL_CTX_set_mode(context, sg_server_modes())
        _ = sg_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_SERVER))
        guard SSL_CTX_set_cipher_list(context, tls12Ciphers) == 1 else {
            throw fail(.other, "cannot set the cipher list")
        }
        guard SSL_CTX_use_certificate_chain_file(context, files.certificatePath) == 1 else {
            throw fail(.certificate, "cannot load certificate chain \(files.certificatePath)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, files.privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            throw fail(.privateKey, "cannot load private key \(files.privateKeyPath)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw fail(
                .privateKey,
                "private key \(files.privateKeyPath) does not match certificate \(files.certificatePath)"
            )
        }
        return context
    }
}

/// ALPN: the first of the server's protocols that the client offers; no overlap -> no ALPN (HTTP/1.1).
private func alpnSelectCallback(
    ssl: OpaquePointer?,
    out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    outlen: UnsafeMutablePointer<UInt8>?,
    clientList: UnsafePointer<UInt8>?,
    clientLength: UInt32,
    arg: UnsafeMutableRawPointer?
) -> Int32 {
    guard let arg, let out, let outlen, let clientList else { return SSL_TLSEXT_ERR_NOACK }
    let context = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
    let server = context.alpnWire
    guard let serverBase = server.baseAddress else { return SSL_TLSEXT_ERR_NOACK }
    var offset = 0
    while offset < server.count {
        let length = Int(server[offset])
        var clientOffset = 0
        while clientOffset < Int(clientLength) {
            let clientItemLength = Int(clientList[clientOffset])
            if clientItemLength == length,
                memcmp(serverBase + offset + 1, clientList + clientOffset + 1, length) == 0
            {
                out.pointee = UnsafePointer(serverBase + offset + 1)
                outlen.pointee = UInt8(length)
                return SSL_TLSEXT_ERR_OK
            }
            clientOffset += 1 + clientItemLength
        }
        offset += 1 + length
    }
    return SSL_TLSEXT_ERR_NOACK
}

/// SNI: switch the connection to the certificate that covers the requested name; unknown names keep the default.
private func serverNameCallback(ssl: OpaquePointer?, alert: UnsafeMutablePointer<Int32>?, arg: UnsafeMutableRawPointer?)
    -> Int32
{
    guard let ssl, let arg, let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else {
        return SSL_TLSEXT_ERR_OK
    }
    let context = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
    if let chosen = context.context(forServerName: String(cString: name)) {
        SSL_set_SSL_CTX(ssl, chosen)
    }
    return SSL_TLSEXT_ERR_OK
}
