import COpenSSL

/// The load client's OpenSSL context: TLS 1.2+, ALPN offering only `h2` (the WebSocket scenario makes one offering
/// only `http/1.1`), no certificate verification (the peers serve a throwaway self-signed certificate). Built
/// once per run and only read afterwards (`SSL_new`).
final class TLSClientContext: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let context: OpaquePointer

    init(alpnProtocols: [String] = ["h2"]) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw Failure(description: "SSL_CTX_new failed")
        }
        _ = sg_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        let alpn: [UInt8] = alpnProtocols.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        guard SSL_CTX_set_alpn_protos(context, alpn, UInt32(alpn.count)) == 0 else {
            SSL_CTX_free(context)
            throw Failure(description: "SSL_CTX_set_alpn_protos failed")
        }
        self.context = context
    }

    deinit {
        SSL_CTX_free(context)
    }
}
