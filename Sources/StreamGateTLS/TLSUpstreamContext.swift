import COpenSSL

/// OpenSSL's client configuration for the connections to one upstream's servers: TLS 1.2 minimum, ALPN offering
/// `alpnProtocols`, and, unless verification is off, the server's chain checked against `caFile` (or the system's
/// trust store) and its name against the one each connection asks for. Built once per upstream at load or reload
/// and only read afterwards (`SSL_new`), so it may be shared across event loops.
public final class TLSUpstreamContext: @unchecked Sendable {
    /// Why the context could not be built (an unreadable or empty CA file), in OpenSSL's words.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private let context: OpaquePointer
    /// Whether the chain and name are checked.
    public let verifies: Bool

    public init(caFile: String?, verify: Bool, alpnProtocols: [String]) throws(Failure) {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw Failure(description: "SSL_CTX_new failed: \(OpenSSLError.drainQueue())")
        }
        _ = sg_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        _ = sg_SSL_CTX_set_mode(context, sg_server_modes())
        ERR_clear_error()
        if verify {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            let loaded =
                caFile.map { SSL_CTX_load_verify_locations(context, $0, nil) } ?? SSL_CTX_set_default_verify_paths(context)
            guard loaded == 1 else {
                SSL_CTX_free(context)
                let reason = OpenSSLError.drainQueue(fallback: "no certificate in it")
                throw Failure(description: caFile.map { "cannot load CA certificates from \"\($0)\": \(reason)" } ?? reason)
            }
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        guard TLSClientContext.offer(alpnProtocols, on: context) else {
            SSL_CTX_free(context)
            throw Failure(description: "SSL_CTX_set_alpn_protos failed: \(OpenSSLError.drainQueue())")
        }
        self.context = context
        self.verifies = verify
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// A session in connect state for `serverName`: sent as SNI when it is a host name (RFC 6066 forbids IP
    /// literals there), and the name (or IP address) the certificate must carry when verifying.
    func makeSSL(serverName: String) -> OpaquePointer? {
        guard let ssl = SSL_new(context) else { return nil }
        SSL_set_connect_state(ssl)
        let isAddress = Self.isIPAddress(serverName)
        if !isAddress {
            _ = sg_SSL_set_tlsext_host_name(ssl, serverName)
        }
        if verifies {
            let checked =
                isAddress
                ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName)
                : SSL_set1_host(ssl, serverName)
            guard checked == 1 else {
                SSL_free(ssl)
                return nil
            }
        }
        return ssl
    }

    /// An IPv4 or IPv6 literal (brackets already removed).
    static func isIPAddress(_ text: String) -> Bool {
        guard let parsed = a2i_IPADDRESS(text) else {
            ERR_clear_error()
            return false
        }
        ASN1_OCTET_STRING_free(parsed)
        return true
    }
}
