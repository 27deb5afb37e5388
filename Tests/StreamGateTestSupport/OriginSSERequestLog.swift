import Foundation
import NIOHTTP1

/// One request as a `TestOrigin` received it, with the event-stream headers the proxy may change on the way
/// (`Last-Event-ID`, `Accept-Encoding`) and the ids of the events the origin wrote in answer.
public struct OriginSSERequest: Sendable {
    /// The request target's path, without the query.
    public let path: String
    public let lastEventID: String?
    /// Every `Accept-Encoding` value joined by ", "; nil when the header was absent.
    public let acceptEncoding: String?
    /// Ids of the complete events the origin wrote on this request's response, in order.
    public internal(set) var sentEventIDs: [Int]
}

/// Every request a `TestOrigin` received (`OriginSSERequest`), in arrival order, safe to read from any thread.
/// Reach it as `origin.sseRequests`.
public final class OriginSSERequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [OriginSSERequest] = []

    init() {}

    /// Every request received so far.
    public var requests: [OriginSSERequest] { lock.withLock { entries } }

    /// The requests received so far for `path`.
    public func requests(path: String) -> [OriginSSERequest] {
        requests.filter { $0.path == path }
    }

    /// Polls until at least `count` requests for `path` arrived or `timeout` passes; returns whether they did.
    @discardableResult
    public func waitForRequests(path: String, count: Int, timeout: TimeInterval) -> Bool {
        Wait.until(timeout: timeout) { self.requests(path: path).count >= count }
    }

    /// Records `head`; returns its index for `eventSent`.
    func record(_ head: HTTPRequestHead) -> Int {
        let path = URLComponents(string: head.uri)?.path ?? head.uri
        let encodings = head.headers["accept-encoding"]
        let request = OriginSSERequest(
            path: path,
            lastEventID: head.headers["last-event-id"].first,
            acceptEncoding: encodings.isEmpty ? nil : encodings.joined(separator: ", "),
            sentEventIDs: []
        )
        return lock.withLock {
            entries.append(request)
            return entries.count - 1
        }
    }

    /// Notes that the response to request `index` carried the complete event `id`.
    func eventSent(_ id: Int, request index: Int) {
        lock.withLock { entries[index].sentEventIDs.append(id) }
    }

    /// The log belonging to the origin whose connections `owner` records (one per origin, made on first use).
    static func of(_ owner: OriginConnectionLog) -> OriginSSERequestLog {
        registry.log(for: owner)
    }

    private static let registry = Registry()

    /// Maps each origin (by its connection log, weakly held) to its request log.
    private final class Registry: @unchecked Sendable {
        private struct Entry {
            weak var owner: OriginConnectionLog?
            let log: OriginSSERequestLog
        }

        private let lock = NSLock()
        private var entries: [ObjectIdentifier: Entry] = [:]

        func log(for owner: OriginConnectionLog) -> OriginSSERequestLog {
            lock.withLock {
                entries = entries.filter { $0.value.owner != nil }
                let key = ObjectIdentifier(owner)
                if let entry = entries[key], entry.owner === owner {
                    return entry.log
                }
                let log = OriginSSERequestLog()
                entries[key] = Entry(owner: owner, log: log)
                return log
            }
        }
    }
}

extension TestOrigin {
    /// Every request this origin received, with its `Last-Event-ID`, `Accept-Encoding` and the events sent back.
    public var sseRequests: OriginSSERequestLog {
        OriginSSERequestLog.of(connections)
    }
}
