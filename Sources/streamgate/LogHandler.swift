#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import StreamGateConfig
import StreamGateProxy
import NIOConcurrencyHelpers

/// The operational log on standard error: one line per message with a millisecond UTC timestamp, as text
/// (`TIME LEVEL LABEL: key=value ... message`, metadata sorted by key) or as one JSON object per line with every
/// metadata entry as its own field. Lines are written whole under one lock.
struct StreamGateLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat

    /// One line at a time on stderr, whichever thread logs.
    private static let output = NIOLock()

    init(label: String, level: Logger.Level, format: LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let explicit = event.metadata
        var all = metadata
        if let provided = metadataProvider?.get() {
            all.merge(provided) { current, _ in current }
        }
        if let explicit {
            all.merge(explicit) { _, new in new }
        }
        let time = LogTimestamp.rfc3339(Date())
        let text: String
        switch format {
        case .text:
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            text = "\(time) \(level) \(label): \(fields.isEmpty ? "" : fields + " ")\(message)\n"
        case .json:
            var json = JSONWriter(capacity: 256)
            json.beginObject()
            json.key("time"); json.string(time)
            json.key("level"); json.string(level.rawValue)
            json.key("label"); json.string(label)
            json.key("message"); json.string(message.description)
            for (key, value) in all.sorted(by: { $0.key < $1.key }) {
                json.key(key); json.string("\(value)")
            }
            json.endObject()
            text = json.text + "\n"
        }
        // write(2), not FileHandle: a closed or full stderr drops the line instead of trapping.
        Self.output.withLock {
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                bytes = bytes.dropFirst(written)
            }
        }
    }
}

/// Process-wide logging: `StreamGateLogHandler` at the level and in the format given.
enum LogSetup {
    static func bootstrap(level: Logger.Level, format: LogFormat = .text) {
        LoggingSystem.bootstrap { label in
            StreamGateLogHandler(label: label, level: level, format: format)
        }
    }
}
