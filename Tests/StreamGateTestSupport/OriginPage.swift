import Foundation
import NIOHTTP1

/// The origin's endpoints for browser and HTTP/2 flow-control tests, each served whole:
/// `/page?streams=N` an HTML page that opens N `EventSource`s to `/sse?stream=I` and, once every one of them has
/// received an event, calls `/report?live=N&protocol=P` (P: the page's `nextHopProtocol`, e.g. `h2`);
/// `/report` 200 "ok" (the test reads the report from the origin's `requestTargets`);
/// `/bulk?bytes=N` N bytes of `x` as `application/octet-stream`.
enum OriginPage {
    /// A complete response.
    struct Response {
        let status: HTTPResponseStatus
        let contentType: String
        let body: String
    }

    /// Streams a page opens when `streams` is not given.
    static let defaultStreams = 30
    /// The largest `/bulk` body served.
    static let maximumBulkBytes = 64 << 20

    /// The response for `path`, or nil when it is not one of these endpoints.
    static func response(path: String, query: [URLQueryItem]?) -> Response? {
        func number(_ name: String) -> Int? {
            query?.first { $0.name == name }?.value.flatMap { Int($0) }
        }
        switch path {
        case "/page":
            let streams = max(1, min(number("streams") ?? defaultStreams, 1000))
            return Response(status: .ok, contentType: "text/html; charset=utf-8", body: html(streams: streams))
        case "/report":
            return Response(status: .ok, contentType: "text/plain", body: "ok")
        case "/bulk":
            let bytes = max(0, min(number("bytes") ?? 0, maximumBulkBytes))
            let body = String(repeating: "x", count: bytes)
            return Response(status: .ok, contentType: "application/octet-stream", body: body)
        default:
            return nil
        }
    }

    /// The page: N event sources, one report when all are live. The empty data-URL icon stops a favicon request.
    static func html(streams: Int) -> String {
        """
        <!doctype html>
        <html>
        <head><meta charset="utf-8"><title>\(streams) streams</title><link rel="icon" href="data:,"></head>
        <body>
        <p id="status">0 of \(streams) live</p>
        <script>
        const total = \(streams);
        const live = new Set();
        let reported = false;
        for (let i = 0; i < total; i++) {
            const source = new EventSource('/sse?stream=' + i);
            source.onmessage = () => {
                live.add(i);
                document.getElementById('status').textContent = live.size + ' of ' + total + ' live';
                if (!reported && live.size === total) {
                    reported = true;
                    const protocol = performance.getEntriesByType('navigation')[0].nextHopProtocol;
                    fetch('/report?live=' + live.size + '&protocol=' + encodeURIComponent(protocol));
                }
            };
        }
        </script>
        </body>
        </html>

        """
    }
}
