extension ConfigValidator {
    /// The listener's TLS settings, or nil after reporting what is wrong. Certificate and key files must exist and
    /// be readable; whether they hold a matching PEM pair is left to the TLS module.
    mutating func validateTLS(_ raw: RawTLS, at path: ConfigKeyPath, sourcePath: String) -> TLSConfig? {
        let certificate = validateCertificate(
            certificate: raw.certificate,
            privateKey: raw.privateKey,
            serverNames: [],
            at: path,
            sourcePath: sourcePath
        )
        let timeoutPath = path.appending("handshake_timeout")
        var timeout = duration(raw.handshakeTimeout, at: timeoutPath, default: TLSConfig.defaultHandshakeTimeout)
        if timeout == .zero {
            report("must be greater than 0s", at: timeoutPath)
            timeout = nil
        }
        let sniCertificates = validateSNICertificates(
            raw.certificates,
            at: path.appending("certificates"),
            sourcePath: sourcePath
        )
        guard let certificate, let timeout, let sniCertificates else {
            return nil
        }
        return TLSConfig(certificate: certificate, sniCertificates: sniCertificates, handshakeTimeout: timeout)
    }

    /// The `certificates` entries (none when absent), or nil after reporting a problem with any of them. A server
    /// name may be listed only once per listener.
    private mutating func validateSNICertificates(
        _ raw: RawList<RawSNICertificate>?,
        at path: ConfigKeyPath,
        sourcePath: String
    ) -> [CertificateConfig]? {
        var certificates: [CertificateConfig] = []
        var allValid = true
        var firstUse: [String: ConfigKeyPath] = [:]
        for (index, item) in (raw?.items ?? []).enumerated() {
            guard let item else {
                allValid = false  // already reported while decoding
                continue
            }
            let itemPath = path.appending(index: index)
            let serverNames = validateServerNames(
                item.serverNames,
                at: itemPath.appending("server_names"),
                firstUse: &firstUse
            )
            let certificate = validateCertificate(
                certificate: item.certificate,
                privateKey: item.privateKey,
                serverNames: serverNames ?? [],
                at: itemPath,
                sourcePath: sourcePath
            )
            if let certificate, serverNames != nil {
                certificates.append(certificate)
            } else {
                allValid = false
            }
        }
        return allValid ? certificates : nil
    }

    /// The lowercased names, or nil after reporting an empty list, an invalid name or one already in `firstUse`.
    private mutating func validateServerNames(
        _ raw: RawList<String>?,
        at path: ConfigKeyPath,
        firstUse: inout [String: ConfigKeyPath]
    ) -> [String]? {
        let entries = nonEmpty(raw, at: path, "at least one server name is required")
        var names: [String]? = entries.isEmpty ? nil : []
        for (text, namePath) in entries {
            switch HostPattern.parseServerName(text) {
            case .success(let pattern):
                let name = pattern.description
                if let first = firstUse[name] {
                    report("duplicate server name \"\(name)\" (already used by \(first))", at: namePath)
                    names = nil
                } else {
                    firstUse[name] = namePath
                    names?.append(name)
                }
            case .failure(let problem):
                report(problem.message, at: namePath)
                names = nil
            }
        }
        return names
    }

    /// One certificate/key pair of the mapping at `path`, or nil after reporting a missing or unreadable file.
    private mutating func validateCertificate(
        certificate: String?,
        privateKey: String?,
        serverNames: [String],
        at path: ConfigKeyPath,
        sourcePath: String
    ) -> CertificateConfig? {
        let certificatePath = path.appending("certificate")
        let privateKeyPath = path.appending("private_key")
        let certificateFile = readableFile(certificate, at: certificatePath, sourcePath: sourcePath)
        let privateKeyFile = readableFile(privateKey, at: privateKeyPath, sourcePath: sourcePath)
        guard let certificateFile, let privateKeyFile else {
            return nil
        }
        return CertificateConfig(
            certificatePath: certificateFile,
            privateKeyPath: privateKeyFile,
            serverNames: serverNames,
            certificateLocation: location(of: certificatePath),
            privateKeyLocation: location(of: privateKeyPath)
        )
    }

    /// The file path resolved against the configuration file's folder, or nil after reporting it missing, empty
    /// or unreadable.
    mutating func readableFile(_ text: String?, at path: ConfigKeyPath, sourcePath: String) -> String? {
        guard let text = required(text, at: path) else {
            return nil
        }
        guard !text.isEmpty else {
            report("must not be empty", at: path)
            return nil
        }
        let resolved = ConfigLoader.resolvePath(text, relativeTo: sourcePath)
        if let reason = ConfigLoader.unreadableReason(atPath: resolved) {
            report("cannot read \"\(resolved)\": \(reason)", at: path)
            return nil
        }
        return resolved
    }
}
