/// A deliberately plain WHATWG event-stream parser ("Interpreting an event stream", HTML 9.2.6) over a whole
/// stream, the oracle for the `EventStreamScanner` tests. It decodes first, then splits lines, then applies fields,
/// exactly as the spec words it, and shares no code with the scanner.
///
/// One rule is the proxy's, not the spec's: an `id` value longer than 1024 UTF-8 bytes is ignored, as the scanner
/// does (the generated streams keep id values valid UTF-8, so counting decoded bytes matches the scanner's count).
struct ReferenceEventStream: Equatable {
    /// One dispatched event as a browser's `MessageEvent` would show it.
    struct Event: Equatable, CustomStringConvertible {
        var type: String
        var data: String
        var lastEventID: String

        var description: String {
            "\(type)[\(lastEventID.debugDescription)]: \(data.debugDescription)"
        }

        /// Compares scalars, not canonical equivalence, so that no rewrite can hide behind normalisation.
        static func == (lhs: Event, rhs: Event) -> Bool {
            lhs.type.unicodeScalars.elementsEqual(rhs.type.unicodeScalars)
                && lhs.data.unicodeScalars.elementsEqual(rhs.data.unicodeScalars)
                && lhs.lastEventID.unicodeScalars.elementsEqual(rhs.lastEventID.unicodeScalars)
        }
    }

    /// Every event dispatched, in order.
    var events: [Event] = []
    /// The last event ID buffer, nil when no `id` field was ever applied.
    var lastEventIDBuffer: String?
    /// The reconnection time from the last valid `retry` field.
    var retry: Int?
    /// The stream (after an optional BOM) is empty, or its last complete line is blank and nothing follows it.
    var endsAtBlockStart = true

    init(parsing bytes: [UInt8]) {
        var scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        if scalars.first == "\u{FEFF}" {
            scalars.removeFirst()
        }
        var lines: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\r" || scalar == "\n" {
                lines.append(current)
                current = []
                if scalar == "\r", index + 1 < scalars.count, scalars[index + 1] == "\n" {
                    index += 1
                }
            } else {
                current.append(scalar)
            }
            index += 1
        }
        // `current` is an unfinished line: the spec discards it at the end of the stream.
        endsAtBlockStart = current.isEmpty && (lines.last?.isEmpty ?? true)

        var data: [Unicode.Scalar] = []
        var type: [Unicode.Scalar] = []
        var lastEventIDString: [Unicode.Scalar] = []
        for line in lines {
            if line.isEmpty {
                lastEventIDString = Array((lastEventIDBuffer ?? "").unicodeScalars)
                if data.isEmpty {
                    type = []
                    continue
                }
                if data.last == "\n" {
                    data.removeLast()
                }
                events.append(
                    Event(
                        type: type.isEmpty ? "message" : Self.string(type),
                        data: Self.string(data),
                        lastEventID: Self.string(lastEventIDString)
                    )
                )
                data = []
                type = []
                continue
            }
            if line.first == ":" {
                continue
            }
            var field = line
            var value: [Unicode.Scalar] = []
            if let colon = line.firstIndex(of: ":") {
                field = Array(line[..<colon])
                value = Array(line[(colon + 1)...])
                if value.first == " " {
                    value.removeFirst()
                }
            }
            switch Self.string(field) {
            case _ where !field.allSatisfy(\.isASCII):
                break
            case "event":
                type = value
            case "data":
                data += value
                data.append("\n")
            case "id":
                if !value.contains("\u{0}") && Self.string(value).utf8.count <= 1024 {
                    lastEventIDBuffer = Self.string(value)
                }
            case "retry":
                if !value.isEmpty && value.allSatisfy({ ("0"..."9").contains($0) }) {
                    retry = value.reduce(0) { total, digit in
                        let (times10, overflow1) = total.multipliedReportingOverflow(by: 10)
                        let (sum, overflow2) = times10.addingReportingOverflow(Int(digit.value) - 48)
                        return overflow1 || overflow2 ? Int.max : sum
                    }
                }
            default:
                break
            }
        }
    }

    private static func string(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
