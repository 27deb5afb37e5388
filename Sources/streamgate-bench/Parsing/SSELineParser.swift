/// Splits an event-stream body (WHATWG HTML, "Server-sent events", the event stream interpretation) into lines
/// as bytes arrive in arbitrary chunks, and reports each dispatched event with the number at the start of its
/// `data:` field: the origin's send timestamp, and each comment line (`:` lines, e.g. a proxy's heartbeat) with its
/// text. Only the first 32 bytes of each line are kept, which is all a timestamp or a heartbeat needs; longer
/// comments and other fields are skipped. LF, CR LF and lone CR all end a line.
struct SSELineParser: Sendable {
    /// One dispatched event: its timestamp, or nil when its data did not start with a number.
    typealias Event = UInt64?

    private static let keptBytes = 32
    private var line: [UInt8] = []
    private var lineLength = 0
    private var lastWasCR = false
    private var pendingTimestamp: UInt64?
    private var pendingData = false

    init() {
        line.reserveCapacity(Self.keptBytes)
    }

    /// Feeds `bytes`; calls `onEvent` for every event completed by them, and `onComment` with the text after the
    /// colon of every comment line completed by them that fits in the kept bytes.
    mutating func consume(
        _ bytes: UnsafeRawBufferPointer,
        onEvent: (Event) -> Void,
        onComment: (ArraySlice<UInt8>) -> Void = { _ in }
    ) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n") where lastWasCR:
                lastWasCR = false  // the LF of a CR LF pair: the line already ended at the CR
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                lastWasCR = byte == UInt8(ascii: "\r")
                endLine(onEvent: onEvent, onComment: onComment)
            default:
                lastWasCR = false
                if lineLength < Self.keptBytes {
                    line.append(byte)
                }
                lineLength += 1
            }
        }
    }

    private mutating func endLine(onEvent: (Event) -> Void, onComment: (ArraySlice<UInt8>) -> Void) {
        defer {
            line.removeAll(keepingCapacity: true)
            lineLength = 0
        }
        if lineLength == 0 {
            if pendingData {
                onEvent(pendingTimestamp)
            }
            pendingData = false
            pendingTimestamp = nil
            return
        }
        if line.first == UInt8(ascii: ":") {
            if lineLength <= Self.keptBytes {
                onComment(line.dropFirst())
            }
            return
        }
        guard line.starts(with: Self.dataField) else { return }
        var value = line.dropFirst(Self.dataField.count)
        if value.first == UInt8(ascii: " ") {
            value = value.dropFirst()
        }
        if !pendingData {
            pendingTimestamp = Self.leadingNumber(value)
        }
        pendingData = true
    }

    private static let dataField = Array("data:".utf8)

    private static func leadingNumber(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        var result: UInt64 = 0
        var digits = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 19 else { break }
            result = result * 10 + UInt64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits > 0 ? result : nil
    }
}
