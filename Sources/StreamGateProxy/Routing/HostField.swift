/// The syntax of a Host field value or an `:authority` (RFC 9110 section 7.2: `uri-host [ ":" port ]`), checked
/// before routing so that the host StreamGate routes on is the host the upstream sees, with no userinfo, spaces,
/// slashes or control bytes an origin might read differently.
enum HostField {
    /// Why `value` is not a valid Host, or nil when it is.
    static func problem(with value: String) -> String? {
        let bytes = Array(value.utf8)
        if bytes.isEmpty {
            return "empty Host header"
        }
        var index = 0
        if bytes[0] == UInt8(ascii: "[") {
            // IP-literal: hex digits, colons, dots (IPv4 tail) and a zone or IPvFuture's few extra characters.
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1,
                bytes[1..<close].allSatisfy(isIPLiteralByte)
            else {
                return "invalid IP literal in Host header"
            }
            index = close + 1
        } else {
            while index < bytes.count && bytes[index] != UInt8(ascii: ":") {
                guard isRegNameByte(bytes[index]) else {
                    return "invalid character in Host header"
                }
                index += 1
            }
            if index == 0 {
                return "Host header has no host"
            }
        }
        guard index < bytes.count else { return nil }
        guard bytes[index] == UInt8(ascii: ":") else {
            return "invalid character in Host header"
        }
        let port = bytes[(index + 1)...]
        guard port.count <= 5, port.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return "invalid port in Host header"
        }
        return nil
    }

    /// RFC 3986 reg-name: unreserved, pct-encoded (its `%` and hex digits) and sub-delims.
    private static func isRegNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"),
            UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }

    private static func isIPLiteralByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "v"),
            UInt8(ascii: "V"), UInt8(ascii: "%"):
            return true
        default:
            return false
        }
    }
}
