import Foundation

/// A finished curl transfer: status code, body, connections opened, and curl's own exit code and errors.
public struct CurlResponse: Sendable {
    public let status: Int
    public let body: Data
    /// Response header lines as curl received them (from `-D`).
    public let headerLines: [String]
    public let exitCode: Int32
    /// True when curl outlived its time limit and was killed.
    public let timedOut: Bool
    public let stderr: String

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Values of response header `name` (case-insensitive), last response only.
    public func headerValues(_ name: String) -> [String] {
        headerLines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            guard line[..<colon].lowercased() == name.lowercased() else { return nil }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
}

extension Curl {
    /// One transfer to `url` with `extra` arguments, body and headers captured through files.
    public static func fetch(_ url: String, _ extra: [String] = [], timeout: TimeInterval = 15) throws -> CurlResponse {
        let directory = try TemporaryDirectory(prefix: "streamgate-fetch")
        let bodyURL = directory.file("body")
        let headersURL = directory.file("headers")
        let result = try run(
            extra + ["--output", bodyURL.path, "--dump-header", headersURL.path, "--write-out", "%{http_code}", url],
            timeout: timeout
        )
        let headerText = (try? String(contentsOf: headersURL, encoding: .utf8)) ?? ""
        // With 1xx interim responses there are several header blocks: keep the last.
        let blocks = headerText.components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }
        return CurlResponse(
            status: Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0,
            body: (try? Data(contentsOf: bodyURL)) ?? Data(),
            headerLines: (blocks.last ?? "").components(separatedBy: "\r\n"),
            exitCode: result.exitCode,
            timedOut: result.timedOut,
            stderr: result.stderr
        )
    }
}
