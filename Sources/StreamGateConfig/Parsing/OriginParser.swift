/// Parses the origins a WebSocket route accepts: `http://host[:port]` or `https://host[:port]` (RFC 6454).
///
/// The result is the origin as browsers serialize it in the `Origin` header, so the proxy can compare exactly:
/// lowercased, IPv6 hosts in brackets, the scheme's default port (80 for http, 443 for https) left out.
enum OriginParser {
    /// The schemes an origin may have, with their default ports.
    static let defaultPorts = ["http": 80, "https": 443]

    /// The serialized origin, or what is wrong with `text`.
    static func parse(_ text: String) -> Result<String, ConfigProblem> {
        func problem(_ detail: String) -> Result<String, ConfigProblem> {
            .failure(ConfigProblem("invalid origin \"\(text)\": \(detail)"))
        }
        let shape = "expected http(s)://host[:port], e.g. https://app.example"
        let lowered = text.lowercased()
        if lowered == "*" {
            return problem("leave allowed_origins empty to accept any origin")
        }
        guard let separator = lowered.range(of: "://") else {
            return problem(shape)
        }
        let scheme = String(lowered[..<separator.lowerBound])
        guard let defaultPort = defaultPorts[scheme] else {
            return problem("scheme must be http or https")
        }
        let authority = lowered[separator.upperBound...]
        if authority.contains(where: { "/?#".contains($0) }) {
            return problem("must not include a path, query or fragment (\(shape))")
        }
        let host: Substring
        let portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return problem("missing \"]\" after the IPv6 address")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            guard rest.isEmpty || rest.hasPrefix(":") else {
                return problem("unexpected \"\(rest)\" after the IPv6 address")
            }
            portText = rest.isEmpty ? nil : rest.dropFirst()
            guard host.contains(":"), host.allSatisfy({ $0.isASCII && ($0.isHexDigit || ":.".contains($0)) }) else {
                return problem("\"\(host)\" is not an IPv6 address")
            }
        } else {
            let colon = authority.lastIndex(of: ":")
            host = colon.map { authority[..<$0] } ?? authority
            portText = colon.map { authority[authority.index(after: $0)...] }
            if host.contains(":") {
                return problem("IPv6 addresses must be in brackets, e.g. http://[::1]:8080")
            }
            guard !host.isEmpty else {
                return problem("missing host (\(shape))")
            }
            if let bad = host.first(where: { !HostPort.isHostNameCharacter($0) }) {
                return problem("invalid character \"\(bad)\" in host")
            }
            if host.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                return problem("empty label in host")
            }
        }
        var port: Int?
        if let portText {
            guard portText.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(portText),
                (1...65_535).contains(value)
            else {
                return problem("port must be a number in 1...65535")
            }
            port = value == defaultPort ? nil : value
        }
        let hostText = host.contains(":") ? "[\(host)]" : String(host)
        return .success(scheme + "://" + hostText + (port.map { ":\($0)" } ?? ""))
    }
}
