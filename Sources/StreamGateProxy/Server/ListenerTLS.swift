import StreamGateConfig
import StreamGateTLS

/// Builds a listener's OpenSSL context from its `tls` config, reporting OpenSSL's objections (unreadable PEM,
/// key that does not match its certificate) as config errors at the key that names the file.
public enum ListenerTLS {
    public static func makeContext(for tls: TLSConfig, in config: StreamGateConfiguration) throws(ConfigError)
        -> TLSContext
    {
        let all = [tls.certificate] + tls.sniCertificates
        do {
            return try TLSContext(
                certificate: files(tls.certificate),
                sniCertificates: tls.sniCertificates.map(files)
            )
        } catch {
            let failed = all[min(error.certificateIndex, all.count - 1)]
            let location = error.field == .certificate ? failed.certificateLocation : failed.privateKeyLocation
            throw config.error(at: location, error.message)
        }
    }

    /// Every TLS listener's context, by listener name; all errors collected.
    public static func makeContexts(for config: StreamGateConfiguration) throws(ConfigErrors) -> [String: TLSContext] {
        var contexts: [String: TLSContext] = [:]
        var errors: [ConfigError] = []
        for listener in config.listeners {
            guard let tls = listener.tls else { continue }
            do {
                contexts[listener.name] = try makeContext(for: tls, in: config)
            } catch {
                errors.append(error)
            }
        }
        if !errors.isEmpty {
            throw ConfigErrors(errors: errors)
        }
        return contexts
    }

    private static func files(_ certificate: CertificateConfig) -> TLSCertificateFiles {
        TLSCertificateFiles(
            certificatePath: certificate.certificatePath,
            privateKeyPath: certificate.privateKeyPath,
            serverNames: certificate.serverNames
        )
    }
}
