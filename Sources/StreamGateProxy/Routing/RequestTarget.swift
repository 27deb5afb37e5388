/// The parts of a request target (RFC 9112 section 3.2) that routing needs: the path without query, and the
/// authority when the client sent absolute-form. Rejects targets StreamGate will not forward.
struct RequestTarget {
    var path: Substring
    /// Host from an absolute-form target (`http://host/path`), which overrides the Host header.
    var authority: Substring?
    /// The target to send upstream: always origin-form (`/path?query`).
    var originForm: Substring

    enum Rejection: Error, CustomStringConvertible {
        case notOriginForm
        case dotSegment
        case fragment
        case noAuthority

        var description: String {
            switch self {
            case .notOriginForm: return "request target is neither origin-form nor absolute-form"
            case .dotSegment: return "request path contains a dot segment"
            case .fragment: return "request target contains a fragment (#)"
            case .noAuthority: return "absolute-form request target has no host"
            }
        }
    }

    init(uri: String) throws(Rejection) {
        var rest = Substring(uri)
        if rest.hasPrefix("/") {
            self.authority = nil
        } else if let schemeEnd = rest.range(of: "://"),
            ["http", "https"].contains(rest[..<schemeEnd.lowerBound].lowercased())
        {
            let afterScheme = rest[schemeEnd.upperBound...]
            let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
            let authority = afterScheme[..<slash]
            if authority.isEmpty {
                throw .noAuthority
            }
            self.authority = authority
            rest = afterScheme[slash...]
            if !rest.hasPrefix("/") {
                rest = Substring("/" + rest)
            }
        } else {
            throw .notOriginForm
        }
        // RFC 9112 section 3.2: a fragment is never part of a request target; forwarding one would let the
        // origin see a path StreamGate did not route on.
        if rest.contains("#") {
            throw .fragment
        }
        self.originForm = rest
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        self.path = rest[..<queryStart]
        if Self.hasDotSegment(self.path) {
            throw .dotSegment
        }
    }

    /// True when a segment is `.` or `..`, also percent-encoded (`%2e`), which could climb out of a route prefix.
    private static func hasDotSegment(_ path: Substring) -> Bool {
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            let lowered = segment.lowercased()
            switch lowered {
            case ".", "..", "%2e", "%2e%2e", ".%2e", "%2e.":
                return true
            default:
                continue
            }
        }
        return false
    }
}
