import Foundation

/// Runs the real HTTP/2 clients of nghttp2 (Debian `nghttp2-client`): `nghttp` and the load generator `h2load`.
public enum Nghttp {
    /// One row of `nghttp --stat`: a finished stream.
    public struct StreamStatistics: Equatable, Sendable {
        public let streamID: Int
        public let status: Int
        /// Response body bytes received.
        public let size: Int
        public let path: String
    }

    /// What `h2load` reported about its requests.
    public struct LoadSummary: Equatable, Sendable {
        public var total = 0
        public var succeeded = 0
        public var failed = 0
        public var errored = 0
        public var timedOut = 0
        /// Responses by status class: `status2xx` of the "status codes:" line.
        public var status2xx = 0
        public var status3xx = 0
        public var status4xx = 0
        public var status5xx = 0
        /// The negotiated protocol from "Application protocol:" (`h2`), when reported.
        public var applicationProtocol: String?
    }

    /// Runs `nghttp` with `arguments`; killed by PID after `timeout` seconds.
    public static func nghttp(_ arguments: [String], timeout: TimeInterval) throws -> ProcessResult {
        try ProcessRunner.run(try ProcessRunner.findInPath("nghttp"), arguments, timeout: timeout)
    }

    /// Runs `h2load` with `arguments`; killed by PID after `timeout` seconds.
    public static func h2load(_ arguments: [String], timeout: TimeInterval) throws -> ProcessResult {
        try ProcessRunner.run(try ProcessRunner.findInPath("h2load"), arguments, timeout: timeout)
    }

    /// The rows of the table `nghttp --stat` prints after its transfers
    /// (`id responseEnd requestStart process code size request path`); other lines are ignored.
    public static func statistics(in output: String) -> [StreamStatistics] {
        guard let table = output.range(of: "request path\n") else { return [] }
        return output[table.upperBound...].split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 7, let id = Int(fields[0]), let status = Int(fields[4]), let size = Int(fields[5])
            else { return nil }
            return StreamStatistics(streamID: id, status: status, size: size, path: String(fields[6]))
        }
    }

    /// The "requests:" and "status codes:" lines of `h2load`'s report, or nil when it printed neither.
    public static func loadSummary(in output: String) -> LoadSummary? {
        var summary = LoadSummary()
        var found = false
        for line in output.split(separator: "\n") {
            if line.hasPrefix("requests: ") {
                found = true
                let counts = labelledCounts(line.dropFirst("requests: ".count))
                summary.total = counts["total"] ?? 0
                summary.succeeded = counts["succeeded"] ?? 0
                summary.failed = counts["failed"] ?? 0
                summary.errored = counts["errored"] ?? 0
                summary.timedOut = counts["timeout"] ?? 0
            } else if line.hasPrefix("status codes: ") {
                found = true
                let counts = labelledCounts(line.dropFirst("status codes: ".count))
                summary.status2xx = counts["2xx"] ?? 0
                summary.status3xx = counts["3xx"] ?? 0
                summary.status4xx = counts["4xx"] ?? 0
                summary.status5xx = counts["5xx"] ?? 0
            } else if line.hasPrefix("Application protocol: ") {
                summary.applicationProtocol = String(line.dropFirst("Application protocol: ".count))
            }
        }
        return found ? summary : nil
    }

    /// `"20000 total, 0 failed"` -> `["total": 20000, "failed": 0]`.
    private static func labelledCounts(_ text: Substring) -> [String: Int] {
        var counts: [String: Int] = [:]
        for item in text.split(separator: ",") {
            let words = item.split(separator: " ")
            if words.count == 2, let value = Int(words[0]) {
                counts[String(words[1])] = value
            }
        }
        return counts
    }
}
