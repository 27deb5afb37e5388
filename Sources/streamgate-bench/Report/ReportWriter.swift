import Foundation

/// Writes `results.json` (the reports of the run, one per worker setting) and `results.md` into the output folder,
/// plus a dated copy of each so earlier runs stay.
enum ReportWriter {
    static func write(_ reports: [BenchReport], markdown: String, to folder: String) throws -> [String] {
        let url = URL(fileURLWithPath: folder)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let json = try encoder.encode(reports)
        let stamp = ISO8601DateFormatter.string(
            from: reports.first?.date ?? Date(),
            timeZone: .gmt,
            formatOptions: [.withFullDate, .withTime]
        ).replacingOccurrences(of: ":", with: "")
        var written: [String] = []
        for name in ["results", "results-\(stamp)"] {
            let jsonURL = url.appendingPathComponent("\(name).json")
            let markdownURL = url.appendingPathComponent("\(name).md")
            try json.write(to: jsonURL)
            try Data(markdown.utf8).write(to: markdownURL)
            written += [jsonURL.path, markdownURL.path]
        }
        return written
    }
}
