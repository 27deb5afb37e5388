import Foundation
import StreamGateTestSupport
import XCTest

/// How curl speaks to the proxy's cleartext listener in the event-stream tests.
enum EventStreamClientProtocol: String {
    case http1
    /// HTTP/2 with prior knowledge (h2c).
    case http2

    var curlArguments: [String] {
        switch self {
        case .http1: return ["--http1.1"]
        case .http2: return ["--http2-prior-knowledge"]
        }
    }
}

/// An event-stream body as LF-separated blocks: what lies between blank lines (`\n\n`), so `:hb` heartbeats and
/// whole events each form one block. Only for bodies whose lines end with LF.
struct EventStreamBlocks {
    let blocks: [String]

    init(_ text: String) {
        var blocks = text.components(separatedBy: "\n\n")
        if blocks.last == "" {
            blocks.removeLast()
        }
        self.blocks = blocks
    }

    /// The blocks that are not the comment `:comment`.
    func events(besides comment: String = "hb") -> [String] {
        blocks.filter { $0 != ":" + comment }
    }

    /// How many blocks are the comment `:comment`.
    func commentCount(_ comment: String = "hb") -> Int {
        blocks.filter { $0 == ":" + comment }.count
    }
}

extension EndToEndTestCase {
    /// Fetches `path` from the proxy at `base` with curl over `client`; the response and how long it took (s).
    func timedFetch(
        _ base: String,
        _ path: String,
        over client: EventStreamClientProtocol,
        extra: [String] = [],
        timeout: TimeInterval = 15
    ) throws -> (response: CurlResponse, seconds: Double) {
        let started = Date()
        let response = try Curl.fetch("\(base)\(path)", client.curlArguments + extra, timeout: timeout)
        return (response, Date().timeIntervalSince(started))
    }
}

/// Fields read out of an event stream's raw text.
enum EventStreamText {
    /// The `id:` values, in order.
    static func ids(in text: String) -> [Int] {
        values(of: "id: ", in: text)
    }

    /// The `retry:` values, in order.
    static func retries(in text: String) -> [Int] {
        values(of: "retry: ", in: text)
    }

    /// Whether `ids` is exactly 1, 2, 3, ... (no event lost, none twice).
    static func isUnbroken(_ ids: [Int]) -> Bool {
        ids.enumerated().allSatisfy { $0.offset + 1 == $0.element }
    }

    private static func values(of prefix: String, in text: String) -> [Int] {
        text.split(separator: "\n").compactMap { $0.hasPrefix(prefix) ? Int($0.dropFirst(prefix.count)) : nil }
    }
}
