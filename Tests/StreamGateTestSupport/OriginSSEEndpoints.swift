import Foundation
import NIOHTTP1

/// The origin's endpoints for the event-stream tests, each an `OriginSSEScript` (times in milliseconds):
/// - `/sse-split?count=1&pause=100&gap=0[&end=MS][&joined=1]`: event k is `id: k\ndata: part one`, then after
///   `pause` ` part two\n\n` in a separate write; `gap` between events; after the last, the response ends `end`
///   later, or stays open and silent without `end`. `joined=1` writes each event's second half and the next event's
///   first half as one chunk, so no chunk ever ends at an event boundary.
/// - `/sse-crlf?count=1&gap=100[&split=1&pause=100][&end=MS]`: event k is `id: k\r\ndata: crlf k\r\n\r\n`; with
///   `split=1` it is written in two parts, between the CR and the LF ending the data line.
/// - `/sse-cached?count=2&gap=100`: events `id: k\ndata: cached k\n\n` with `Content-Length` and
///   `Cache-Control: private`, then the end.
/// - `/sse-resume[?count=N][&pause=0][&gap=100]`: events with ids from the request's `Last-Event-ID` + 1 (or 1),
///   `id: k\ndata: resume k` then `\n\n` (after `pause`, when given); forever, or `count` events then the end.
/// - `/sse-page`: an HTML page that opens one `EventSource` on `/sse-resume?pause=300&gap=100`.
enum OriginSSEEndpoints {
    /// The page served by `/sse-page`.
    static let pageHTML = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>StreamGate EventSource test</title></head>
        <body><pre id="log"></pre>
        <script>
        const source = new EventSource("/sse-resume?pause=300&gap=100");
        source.onmessage = (event) => {
            document.getElementById("log").textContent += event.lastEventId + " " + event.data + "\\n";
        };
        </script></body></html>

        """

    /// Records `head` in `requests` (every request, whatever its path) and returns the script for it when its path is
    /// one of the endpoints above, with the record index for `OriginSSERequestLog.eventSent`.
    static func script(for head: HTTPRequestHead, requests: OriginSSERequestLog) -> (OriginSSEScript, Int)? {
        let index = requests.record(head)
        let components = URLComponents(string: head.uri)
        let query = Query(items: components?.queryItems ?? [])
        let script: OriginSSEScript
        switch components?.path ?? head.uri {
        case "/sse-split":
            script = split(query)
        case "/sse-crlf":
            script = crlf(query)
        case "/sse-cached":
            script = cached(query)
        case "/sse-resume":
            script = resume(query, lastEventID: head.headers["last-event-id"].first.flatMap { Int($0) } ?? 0)
        case "/sse-page":
            let headers: HTTPHeaders = [
                "content-type": "text/html; charset=utf-8",
                "content-length": "\(pageHTML.utf8.count)",
            ]
            script = OriginSSEScript(headers: headers, steps: AnyIterator([.write(pageHTML), .end].makeIterator()))
        default:
            return nil
        }
        return (script, index)
    }

    private static let eventStreamHeaders: HTTPHeaders = ["content-type": "text/event-stream"]

    private static func split(_ query: Query) -> OriginSSEScript {
        let count = query.int("count") ?? 1
        let pause = Int64(query.int("pause") ?? 100)
        let gap = Int64(query.int("gap") ?? 0)
        let joined = query.int("joined") == 1
        var steps: [OriginSSEScript.Step] = []
        for id in stride(from: 1, through: count, by: 1) {
            let firstHalf = "id: \(id)\ndata: part one"
            if id == 1 || !joined {
                steps.append(.write(firstHalf))
            }
            steps.append(.pause(pause))
            if joined && id < count {
                steps.append(.write(" part two\n\nid: \(id + 1)\ndata: part one", completesEvent: id))
            } else {
                steps.append(.write(" part two\n\n", completesEvent: id))
            }
            if id < count && gap > 0 {
                steps.append(.pause(gap))
            }
        }
        return OriginSSEScript(headers: eventStreamHeaders, steps: AnyIterator(ending(steps, query).makeIterator()))
    }

    private static func crlf(_ query: Query) -> OriginSSEScript {
        let count = query.int("count") ?? 1
        let gap = Int64(query.int("gap") ?? 100)
        let pause = Int64(query.int("pause") ?? 100)
        var steps: [OriginSSEScript.Step] = []
        for id in stride(from: 1, through: count, by: 1) {
            if query.int("split") == 1 {
                steps += [
                    .write("id: \(id)\r\ndata: crlf \(id)\r"), .pause(pause), .write("\n\r\n", completesEvent: id),
                ]
            } else {
                steps.append(.write("id: \(id)\r\ndata: crlf \(id)\r\n\r\n", completesEvent: id))
            }
            if id < count {
                steps.append(.pause(gap))
            }
        }
        return OriginSSEScript(headers: eventStreamHeaders, steps: AnyIterator(ending(steps, query).makeIterator()))
    }

    private static func cached(_ query: Query) -> OriginSSEScript {
        let count = query.int("count") ?? 2
        let gap = Int64(query.int("gap") ?? 100)
        let events = stride(from: 1, through: count, by: 1).map { "id: \($0)\ndata: cached \($0)\n\n" }
        var steps: [OriginSSEScript.Step] = []
        for (offset, event) in events.enumerated() {
            if offset > 0 {
                steps.append(.pause(gap))
            }
            steps.append(.write(event, completesEvent: offset + 1))
        }
        steps.append(.end)
        let headers: HTTPHeaders = [
            "content-type": "text/event-stream",
            "content-length": "\(events.joined().utf8.count)",
            "cache-control": "private",
        ]
        return OriginSSEScript(headers: headers, steps: AnyIterator(steps.makeIterator()))
    }

    private static func resume(_ query: Query, lastEventID: Int) -> OriginSSEScript {
        let count = query.int("count")
        let pause = Int64(query.int("pause") ?? 0)
        let gap = Int64(query.int("gap") ?? 100)
        var id = lastEventID
        var pending: [OriginSSEScript.Step] = []
        var ended = false
        let steps = AnyIterator<OriginSSEScript.Step> {
            if pending.isEmpty {
                guard !ended else { return nil }
                if let count, id >= lastEventID + count {
                    ended = true
                    return .end
                }
                id += 1
                if id > lastEventID + 1 {
                    pending.append(.pause(gap))
                }
                if pause > 0 {
                    pending += [
                        .write("id: \(id)\ndata: resume \(id)"), .pause(pause), .write("\n\n", completesEvent: id),
                    ]
                } else {
                    pending.append(.write("id: \(id)\ndata: resume \(id)\n\n", completesEvent: id))
                }
            }
            return pending.removeFirst()
        }
        return OriginSSEScript(headers: eventStreamHeaders, steps: steps)
    }

    /// `steps`, then the end `end` milliseconds later when the query gives `end`.
    private static func ending(_ steps: [OriginSSEScript.Step], _ query: Query) -> [OriginSSEScript.Step] {
        guard let end = query.int("end") else { return steps }
        return steps + [.pause(Int64(end)), .end]
    }

    /// The integer query parameters of a request target.
    private struct Query {
        let items: [URLQueryItem]

        func int(_ name: String) -> Int? {
            items.first { $0.name == name }?.value.flatMap { Int($0) }
        }
    }
}
