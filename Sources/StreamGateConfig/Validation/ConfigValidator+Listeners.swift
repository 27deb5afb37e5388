extension ConfigValidator {
    /// Listener ports may be 0: the system picks a free port (tests rely on it).
    static let listenerPorts = 0...65_535

    /// The valid listeners, and where each listener address (other than port 0) was first given.
    /// Relative TLS file paths are resolved against the folder of `sourcePath`.
    mutating func validateListeners(
        _ raw: RawList<RawListener>?,
        at path: ConfigKeyPath,
        sourcePath: String
    ) -> (listeners: [ListenerConfig], addresses: [HostPort: ConfigKeyPath]) {
        var listeners: [ListenerConfig] = []
        var names: [String: ConfigKeyPath] = [:]
        var addresses: [HostPort: ConfigKeyPath] = [:]
        for (listener, itemPath) in nonEmpty(raw, at: path, "at least one listener is required") {
            let name = name(listener.name, at: itemPath.appending("name"))
            if let name {
                if let first = names[name] {
                    report("duplicate name \"\(name)\" (already used by \(first))", at: itemPath.appending("name"))
                } else {
                    names[name] = itemPath
                }
            }
            let addressPath = itemPath.appending("address")
            let address = address(listener.address, at: addressPath, ports: Self.listenerPorts)
            if let address, address.port != 0 {
                if let first = addresses[address] {
                    report("address \(address) is already used by \(first)", at: addressPath)
                } else {
                    addresses[address] = itemPath
                }
            }
            let tlsPath = itemPath.appending("tls")
            var tls: TLSConfig?
            var tlsIsValid = true
            if let rawTLS = listener.tls {
                tls = validateTLS(rawTLS, at: tlsPath, sourcePath: sourcePath)
                tlsIsValid = tls != nil
            } else if isPresentButEmpty(tlsPath) {
                // `tls:` with every key commented out must not quietly serve cleartext.
                report("expected a mapping with certificate and private_key, found nothing", at: tlsPath)
                tlsIsValid = false
            }
            let http2 = validateHTTP2(listener.http2, at: itemPath.appending("http2"))
            let maxConnections = integer(
                listener.maxConnections,
                at: itemPath.appending("max_connections"),
                in: 0...1_000_000,
                default: ListenerConfig.defaultMaxConnections
            )
            if let name, let address, tlsIsValid, let maxConnections {
                listeners.append(
                    ListenerConfig(
                        name: name,
                        address: address,
                        http2: http2,
                        tls: tls,
                        addressLocation: location(of: addressPath),
                        maxConnections: maxConnections
                    )
                )
            }
        }
        return (listeners, addresses)
    }

    private mutating func validateHTTP2(_ raw: RawHTTP2?, at path: ConfigKeyPath) -> HTTP2Config {
        let defaults = HTTP2Config()
        let streams = integer(
            raw?.maxConcurrentStreams,
            at: path.appending("max_concurrent_streams"),
            in: 1...100_000,
            default: defaults.maxConcurrentStreams
        )
        let window = integer(
            raw?.initialWindowSize,
            at: path.appending("initial_window_size"),
            in: 1...2_147_483_647,
            default: defaults.initialWindowSize
        )
        return HTTP2Config(
            maxConcurrentStreams: streams ?? defaults.maxConcurrentStreams,
            initialWindowSize: window ?? defaults.initialWindowSize,
            websocket: raw?.websocket ?? defaults.websocket
        )
    }

    mutating func validateAdmin(
        _ raw: RawAdmin,
        at path: ConfigKeyPath,
        listenerAddresses: [HostPort: ConfigKeyPath],
        sourcePath: String
    ) -> AdminConfig? {
        let addressPath = path.appending("address")
        guard let address = address(raw.address, at: addressPath, ports: Self.listenerPorts) else {
            return nil
        }
        if address.port != 0, let listener = listenerAddresses[address] {
            report("address \(address) is already used by \(listener)", at: addressPath)
        }
        var token: String?
        switch (raw.token, raw.tokenFile) {
        case (.some, .some):
            report("give token or token_file, not both", at: path.appending("token_file"))
            return nil
        case (.some(let text), nil):
            guard !text.isEmpty else {
                report("must not be empty", at: path.appending("token"))
                return nil
            }
            token = text
        case (nil, .some(let file)):
            guard let read = tokenFile(file, at: path.appending("token_file"), sourcePath: sourcePath) else {
                return nil
            }
            token = read
        case (nil, nil):
            break
        }
        if token == nil && !address.isLoopback {
            report(
                "admin on non-loopback address \(address) needs admin.token or admin.token_file",
                at: addressPath
            )
            return nil
        }
        return AdminConfig(address: address, token: token, publicHealthz: raw.publicHealthz ?? false)
    }

    /// The token in `file` (whitespace around it removed), or nil after reporting why it cannot be had.
    private mutating func tokenFile(_ file: String, at path: ConfigKeyPath, sourcePath: String) -> String? {
        let resolved = ConfigLoader.resolvePath(file, relativeTo: sourcePath)
        if let reason = ConfigLoader.unreadableReason(atPath: resolved) {
            report("cannot read \"\(resolved)\": \(reason)", at: path)
            return nil
        }
        guard let text = ConfigLoader.readText(atPath: resolved)?.trimmingWhitespace, !text.isEmpty else {
            report("\"\(resolved)\" holds no token", at: path)
            return nil
        }
        return text
    }
}
