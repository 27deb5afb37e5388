import Foundation
import NIOHTTP1

/// What an admin request asks for, parsed from its method and target; or the answer it gets when it asks for
/// nothing the admin endpoint serves.
enum AdminRoute: Equatable {
    case dashboard
    case events
    case connections(ConnectionQuery)
    case upstreams
    case connection(UInt64)
    case closeConnection(UInt64)
    case closeStream(connection: UInt64, stream: UInt32)
    case metrics
    case healthz
    case config
    case reload

    /// Why a request was not routed: the status and a reason for the body.
    struct Refusal: Error, Equatable {
        var status: HTTPResponseStatus
        var reason: String
    }

    init(method: HTTPMethod, uri: String) throws(Refusal) {
        let (path, query) = Self.split(uri)
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        func expect(_ allowed: HTTPMethod...) throws(Refusal) {
            guard allowed.contains(method) else {
                let names = allowed.map(\.rawValue).joined(separator: ", ")
                throw Refusal(status: .methodNotAllowed, reason: "\(path) allows \(names)")
            }
        }
        switch segments.count {
        case 0:
            try expect(.GET, .HEAD)
            self = .dashboard
        case 1 where segments[0] == "reload":
            try expect(.POST)
            self = .reload
        case 1:
            try expect(.GET, .HEAD)
            switch segments[0] {
            case "events": self = .events
            case "connections": self = .connections(try ConnectionQuery(query))
            case "upstreams": self = .upstreams
            case "metrics": self = .metrics
            case "healthz": self = .healthz
            case "config": self = .config
            default: throw Refusal(status: .notFound, reason: "no admin endpoint \(path)")
            }
        case 2 where segments[0] == "connections":
            guard let id = UInt64(segments[1]) else {
                throw Refusal(status: .badRequest, reason: "connection id \"\(segments[1])\" is not a number")
            }
            try expect(.GET, .HEAD, .DELETE)
            self = method == .DELETE ? .closeConnection(id) : .connection(id)
        case 3 where segments[0] == "streams":
            guard let connection = UInt64(segments[1]), let stream = UInt32(segments[2]) else {
                throw Refusal(status: .badRequest, reason: "stream \(segments[1])/\(segments[2]) is not two numbers")
            }
            try expect(.DELETE)
            self = .closeStream(connection: connection, stream: stream)
        default:
            throw Refusal(status: .notFound, reason: "no admin endpoint \(path)")
        }
    }

    /// `/a/b?x=1&y` -> (`/a/b`, [("x", "1"), ("y", "")]), percent-decoded.
    static func split(_ uri: String) -> (path: String, query: [(String, String)]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, []) }
        let path = String(uri[..<mark])
        let items = uri[uri.index(after: mark)...].split(separator: "&").map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            return (name, parts.count > 1 ? decode(parts[1]) : "")
        }
        return (path, items)
    }

    private static func decode(_ text: Substring) -> String {
        let plus = text.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }
}
