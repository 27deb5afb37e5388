extension HostPattern {
    /// Parses `*`, `*.example.com` or an exact host name (lowercased); nil if it is none of these.
    public init?(parsing text: String) {
        guard case .success(let pattern) = HostPattern.parse(text) else {
            return nil
        }
        self = pattern
    }

    /// Parses a host pattern, explaining what is wrong when it is not one.
    ///
    /// `*` may appear only as the whole pattern or as a leading `*.` label; a port is not part of a pattern.
    /// `kind` names the value in messages ("invalid host pattern ...").
    static func parse(_ text: String, kind: String = "host pattern") -> Result<HostPattern, ConfigProblem> {
        func problem(_ detail: String) -> Result<HostPattern, ConfigProblem> {
            .failure(ConfigProblem("invalid \(kind) \"\(text)\": \(detail)"))
        }
        let lowered = text.lowercased()
        if lowered == "*" {
            return .success(.any)
        }
        let name = lowered.hasPrefix("*.") ? String(lowered.dropFirst(2)) : lowered
        guard !name.isEmpty else {
            return problem("must not be empty (use \"*\" for any host)")
        }
        if name.contains("*") {
            return problem("\"*\" is allowed only as the whole pattern or as a leading \"*.\" label")
        }
        if name.contains(":") {
            return problem("must not include a port")
        }
        if let bad = name.first(where: { !HostPort.isHostNameCharacter($0) }) {
            return problem("invalid character \"\(bad)\"")
        }
        if name.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            return problem("empty label")
        }
        return .success(lowered.hasPrefix("*.") ? .suffix("." + name) : .exact(name))
    }

    /// Parses a TLS server name a certificate answers for: an exact host name or `*.suffix` (lowercased), never `*`
    /// or an IP address, which SNI does not carry (RFC 6066 section 3).
    static func parseServerName(_ text: String) -> Result<HostPattern, ConfigProblem> {
        let kind = "server name"
        switch parse(text, kind: kind) {
        case .success(.any):
            let detail = "use a host name or \"*.suffix\" (the default certificate serves every other name)"
            return .failure(ConfigProblem("invalid \(kind) \"\(text)\": \(detail)"))
        case .success(.exact(let name)) where name.split(separator: ".").allSatisfy({ $0.allSatisfy(\.isNumber) }):
            let detail = "IP addresses are not sent in SNI (RFC 6066), use a host name"
            return .failure(ConfigProblem("invalid \(kind) \"\(text)\": \(detail)"))
        case let result:
            return result
        }
    }
}
