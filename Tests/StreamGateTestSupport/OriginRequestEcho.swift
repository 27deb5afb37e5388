import Foundation
import NIOHTTP1

/// The request head as the origin received it, served as JSON by `/headers`.
public struct OriginRequestEcho: Codable, Sendable {
    public let method: String
    public let uri: String
    /// Header fields in arrival order, each `[name, value]`.
    public let headers: [[String]]

    init(_ head: HTTPRequestHead) {
        method = head.method.rawValue
        uri = head.uri
        headers = head.headers.map { [$0.name, $0.value] }
    }

    /// Every value of header `name` (case-insensitive), in order.
    public func values(of name: String) -> [String] {
        headers.filter { $0.first?.lowercased() == name.lowercased() }.compactMap { $0.last }
    }

    /// Decodes the body `/headers` returned.
    public static func decode(_ text: String) throws -> OriginRequestEcho {
        try JSONDecoder().decode(OriginRequestEcho.self, from: Data(text.utf8))
    }

    func json() -> String {
        guard let data = try? JSONEncoder().encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
