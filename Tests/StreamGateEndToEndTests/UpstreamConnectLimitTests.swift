import Foundation
import StreamGateTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `upstreams[].max_connecting`: HTTP/1.1 connects in progress per server and event loop. More streams than that
/// wait in line and are all served; against a server that never completes a handshake, no more than the limit
/// are ever in progress, and a stream's wait in line counts against its `connect_timeout`.
final class UpstreamConnectLimitTests: EndToEndTestCase {
    func testStreamsBeyondTheLimitWaitInLineAndAreAllServed() throws {
        let origin = try startOrigin()
        let base = try proxyURL(upstreamPort: origin.port, maxConnecting: 1)
        let urls = (0..<12).map { "\(base)/report?n=\($0)" }

        let result = try Curl.run(
            ["--parallel", "--parallel-immediate", "--parallel-max", "12", "-w", "%{http_code}\n"]
                + urls.flatMap { ["-o", "/dev/null", $0] },
            timeout: 20
        )

        XCTAssertEqual(result.exitCode, 0, result.stderr)
        let codes = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(codes, Array(repeating: "200", count: 12), "every stream is served: \(result.stdout)")
        XCTAssertEqual(Set(origin.connections.requestTargets).count, 12)
    }

    func testNoMoreThanTheLimitConnectAtOnceAndWaitingCountsAgainstTheTimeout() throws {
        let silent = try SilentServer()
        let proxy = try startLimitedProxy(upstreamPort: silent.port, maxConnecting: 2)
        let base = try proxy.baseURL()
        let admin = "http://127.0.0.1:\(try proxy.port(of: "admin"))"
        // Two streams take the two connect slots; a second later four more wait in line behind them.
        let first = startRequests((0..<2).map { "\(base)/wait?n=\($0)" })
        Thread.sleep(forTimeInterval: 1.0)
        let second = startRequests((2..<6).map { "\(base)/wait?n=\($0)" })
        Thread.sleep(forTimeInterval: 0.5)
        let connecting = SilentServer.connectsInProgress(toPort: silent.port)
        let shown = try connectCounts(admin: admin)
        let exported = try connectGauges(admin: admin, server: "127.0.0.1:\(silent.port)")
        let answers = try [first, second].flatMap { batch in try XCTUnwrap(batch.wait(), "curl did not finish") }

        XCTAssertEqual(connecting, 2, "connects in progress to the silent server with max_connecting: 2")
        XCTAssertEqual(shown.connecting, 2, "/upstreams: connects in progress")
        XCTAssertEqual(shown.waiting, 4, "/upstreams: streams waiting for a connect slot")
        XCTAssertEqual(exported.connecting, 2, "/metrics: streamgate_upstream_server_connecting")
        XCTAssertEqual(exported.waiting, 4, "/metrics: streamgate_upstream_server_waiting_to_connect")
        let after = try connectCounts(admin: admin)
        XCTAssertEqual(after.connecting, 0, "/upstreams once every stream has its answer")
        XCTAssertEqual(after.waiting, 0, "/upstreams once every stream has its answer")
        XCTAssertEqual(answers.map(\.status), Array(repeating: "504", count: 6), "every stream gets a connect timeout")
        // connect_timeout (2 s) counts from each request: the four that waited 1 s for a slot connect for the 1 s
        // they have left. Given a whole connect_timeout again, two of them would answer after 3 s.
        for answer in answers {
            XCTAssertLessThan(answer.seconds, 2.6, "a stream that waited in line got a whole connect_timeout again")
        }
    }

    func testAStreamThatEndedWhileWaitingForASlotIsNotConnected() throws {
        let silent = try SilentServer()
        let base = try proxyURL(upstreamPort: silent.port, maxConnecting: 1)
        // The first stream takes the only slot until its 2 s connect_timeout; a second waits from 1 s and its client
        // gives up at 1.3 s, so when the slot frees at 2 s with a second of its time left, nobody wants it.
        let first = startRequests(["\(base)/wait?n=first"])
        Thread.sleep(forTimeInterval: 1.0)
        let gaveUp = try Curl.run(["--max-time", "0.3", "-o", "/dev/null", "\(base)/wait?n=gave-up"], timeout: 5)
        XCTAssertEqual(gaveUp.exitCode, 28, "curl's own timeout ended the second request")
        _ = try XCTUnwrap(first.wait(), "curl did not finish")
        Thread.sleep(forTimeInterval: 0.3)

        XCTAssertEqual(
            SilentServer.connectsInProgress(toPort: silent.port), 0,
            "a connect was started for a stream whose client had gone"
        )
    }

    /// A proxy on one event loop (so one line per server) to `upstreamPort` with `max_connecting`; its base URL.
    private func proxyURL(upstreamPort: Int, maxConnecting: Int) throws -> String {
        try startLimitedProxy(upstreamPort: upstreamPort, maxConnecting: maxConnecting).baseURL()
    }

    /// The proxy of `proxyURL`, with its admin endpoint on a port of its own.
    private func startLimitedProxy(upstreamPort: Int, maxConnecting: Int) throws -> ProxyProcess {
        let yaml = ProxyConfigText.yaml(upstreamPorts: [upstreamPort], upstreamKeys: ["max_connecting: \(maxConnecting)"])
            + "admin: { address: \"127.0.0.1:0\" }\n"
        return try startProxy(yaml, arguments: ["--threads", "1"], listeners: ["plain", "admin"])
    }

    /// `connecting` and `waiting_to_connect` of the only server of `/upstreams`.
    private func connectCounts(admin: String) throws -> (connecting: Int?, waiting: Int?) {
        let response = try Curl.fetch(admin + "/upstreams")
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let upstream = (object?["upstreams"] as? [[String: Any]])?.first
        let server = (upstream?["servers"] as? [[String: Any]])?.first
        return (server?["connecting"] as? Int, server?["waiting_to_connect"] as? Int)
    }

    /// The two connect gauges of `server` in `/metrics`.
    private func connectGauges(admin: String, server: String) throws -> (connecting: Int?, waiting: Int?) {
        let metrics = try Curl.fetch(admin + "/metrics").text
        func gauge(_ name: String) -> Int? {
            let prefix = "\(name){upstream=\"app\",server=\"\(server)\"} "
            let line = metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }
            return line.flatMap { Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) }
        }
        return (gauge("streamgate_upstream_server_connecting"), gauge("streamgate_upstream_server_waiting_to_connect"))
    }

    private struct Answer {
        var status: String
        var seconds: Double
    }

    /// Runs curl on `urls` at once on a thread of its own; `wait()` gives each response's status and time.
    private func startRequests(_ urls: [String]) -> Requests {
        let requests = Requests()
        Thread {
            let result = try? Curl.run(
                ["--parallel", "--parallel-immediate", "--parallel-max", "\(urls.count)", "-w", "%{http_code} %{time_total}\n"]
                    + urls.flatMap { ["-o", "/dev/null", $0] },
                timeout: 20
            )
            requests.finish(
                result?.stdout.split(separator: "\n").map { line in
                    let fields = line.split(separator: " ")
                    return Answer(status: String(fields.first ?? ""), seconds: Double(fields.last ?? "") ?? .infinity)
                }
            )
        }.start()
        return requests
    }

    /// The answers of one curl run on another thread.
    private final class Requests: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var answers: [Answer]?

        func finish(_ answers: [Answer]?) {
            self.answers = answers
            done.signal()
        }

        func wait() -> [Answer]? {
            guard done.wait(timeout: .now() + 25) == .success else { return nil }
            return answers
        }
    }
}

/// A listening socket whose accept queue is full (one connection completed and never accepted, backlog 0): the
/// kernel drops every further SYN, so a connect to it stays in progress until it times out.
private final class SilentServer {
    let port: Int
    private let listener: Int32
    private let filler: Int32

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 0) == 0 else {
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.filler = filler
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit {
        close(filler)
        close(listener)
    }

    /// Sockets of this machine in SYN_SENT to `port` on 127.0.0.1 (from /proc/net/tcp).
    static func connectsInProgress(toPort port: Int) -> Int {
        // Read to the end: the kernel hands the table out a page per read.
        guard let file = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return -1 }
        defer { try? file.close() }
        let table = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        let remote = String(format: "0100007F:%04X", port)
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[2] == remote && fields[3] == "02"
        }.count
    }
}
