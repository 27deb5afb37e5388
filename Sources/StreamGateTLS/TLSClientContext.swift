import COpenSSL

/// An OpenSSL context for the client side of TLS (the benchmark's load client, tests): TLS 1.2+, ALPN offering
/// `alpnProtocols`, and no certificate verification (the peers it reaches serve throwaway self-signed
/// certificates). Built once and only read afterwards (`SSL_new`), so it may be shared across event loops.
public final class TLSClientContext: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let context: OpaquePointer

    public init(alpnProtocols: [String] = ["h2"]) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw Failure(description: "SSL_CTX_new failed")
        }
        _ = sg_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        guard Self.offer(alpnProtocols, on: context) else {
            SSL_CTX_free(context)
            throw Failure(description: "SSL_CTX_set_alpn_protos failed")
        }
        self.context = context
    }

    /// Sets the ALPN protocols a client context offers, in preference order; false when OpenSSL refuses.
    static func offer(_ protocols: [String], on context: OpaquePointer) -> Bool {
        let wire: [UInt8] = protocols.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        return SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0
    }

    deinit {
        SSL_CTX_free(context)
    }
}
