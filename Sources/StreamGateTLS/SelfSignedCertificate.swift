import COpenSSL

/// Makes a throwaway self-signed certificate (ECDSA P-256, SHA-256, 30 days) for local demos and tests, and
/// writes it and its private key as PEM files. Never for production.
public enum SelfSignedCertificate {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes `certificatePath` and `privateKeyPath` for `commonName`, valid for the DNS and IP names given.
    public static func write(
        commonName: String,
        dnsNames: [String],
        ipAddresses: [String],
        certificatePath: String,
        privateKeyPath: String
    ) throws(Failure) {
        ERR_clear_error()
        guard let key = makeKey() else { throw failure("cannot generate an EC key") }
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw failure("cannot allocate a certificate") }
        defer { X509_free(certificate) }

        X509_set_version(certificate, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(certificate), Int.random(in: 1...Int(Int32.max)))
        X509_gmtime_adj(X509_getm_notBefore(certificate), -3600)
        X509_gmtime_adj(X509_getm_notAfter(certificate), 30 * 24 * 3600)
        X509_set_pubkey(certificate, key)
        let name = X509_get_subject_name(certificate)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, "StreamGate demo", -1, -1, 0)
        X509_set_issuer_name(certificate, name)

        let alternativeNames = (dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }).joined(separator: ",")
        var extensionContext = X509V3_CTX()
        X509V3_set_ctx(&extensionContext, certificate, certificate, nil, nil, 0)
        for (nid, value) in [(NID_subject_alt_name, alternativeNames), (NID_basic_constraints, "critical,CA:FALSE")] {
            guard let ext = X509V3_EXT_conf_nid(nil, &extensionContext, nid, value) else {
                throw failure("cannot build certificate extension \(value)")
            }
            X509_add_ext(certificate, ext, -1)
            X509_EXTENSION_free(ext)
        }
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw failure("cannot sign the certificate") }

        try writePEM(to: certificatePath) { PEM_write_bio_X509($0, certificate) }
        try writePEM(to: privateKeyPath) { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
    }

    private static func makeKey() -> OpaquePointer? {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) > 0,
            EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_X9_62_prime256v1) > 0
        else { return nil }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen(context, &key) > 0 else { return nil }
        return key
    }

    private static func writePEM(to path: String, _ write: (OpaquePointer) -> Int32) throws(Failure) {
        guard let file = BIO_new_file(path, "w") else { throw failure("cannot write \(path)") }
        defer { BIO_free(file) }
        guard write(file) > 0 else { throw failure("cannot encode \(path)") }
    }

    private static func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(OpenSSLError.drainQueue(fallback: "no OpenSSL detail"))")
    }
}
