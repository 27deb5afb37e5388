extension HostPort {
    /// Parses `host:port`, `[v6]:port` or `name:port`, accepting ports 0...65535 (0: bind an ephemeral port).
    public init?(parsing text: String) {
        guard case .success(let address) = HostPort.parse(text, ports: 0...65_535) else {
            return nil
        }
        self = address
    }

    /// Parses an address, explaining what is wrong when it is not one. IPv6 hosts must be bracketed.
    static func parse(_ text: String, ports: ClosedRange<Int>) -> Result<HostPort, ConfigProblem> {
        func problem(_ detail: String) -> Result<HostPort, ConfigProblem> {
            .failure(ConfigProblem("invalid address \"\(text)\": \(detail)"))
        }
        guard !text.isEmpty else {
            return problem("expected host:port, e.g. 127.0.0.1:8080 or [::1]:8080")
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return problem("missing \"]\" after the IPv6 address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let afterBracket = text[text.index(after: close)...]
            guard afterBracket.hasPrefix(":") else {
                return problem("missing port (expected [v6]:port, e.g. [::1]:8080)")
            }
            portText = afterBracket.dropFirst()
            guard host.contains(":"), host.allSatisfy({ $0.isASCII && ($0.isHexDigit || ":.".contains($0)) }) else {
                return problem("\"\(host)\" is not an IPv6 address")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return problem("missing port (expected host:port, e.g. 127.0.0.1:8080)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return problem("IPv6 addresses must be in brackets, e.g. [::1]:8080")
            }
            guard !host.isEmpty else {
                return problem("missing host (expected host:port, e.g. 127.0.0.1:8080)")
            }
            if let bad = host.first(where: { !isHostNameCharacter($0) }) {
                return problem("invalid character \"\(bad)\" in host")
            }
        }
        guard !portText.isEmpty else {
            return problem("missing port")
        }
        guard portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText), ports.contains(port) else {
            return problem("port must be a number in \(ports.lowerBound)...\(ports.upperBound)")
        }
        return .success(HostPort(host: String(host), port: port))
    }

    /// Letters, digits, `-`, `.` and `_`: enough for host names and IPv4 addresses.
    static func isHostNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "-._".contains(character))
    }
}
