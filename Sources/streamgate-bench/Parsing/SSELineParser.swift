/// Splits an event-stream body (WHATWG HTML, "Server-sent events", the event stream interpretation) into lines
/// as bytes arrive in arbitrary chunks, and reports each dispatched event with the number at the start of its
/// `data:` field (the origin's send timestamp, or the failover origin's tag) and its last event ID when that is a
/// number, and each comment line (`:` lines, e.g. a proxy's heartbeat) with its text. Only the first 32 bytes of
/// each line are kept, which is all a timestamp, an id or a heartbeat needs; longer comments and other fields are
/// skipped. LF, CR LF and lone CR all end a line.
struct SSELineParser: Sendable {
    /// One dispatched event.
    struct Event: Sendable, Equatable {
        /// The number its data starts with, or nil when it does not start with one.
        var dataNumber: UInt64?
        /// The stream's last event ID as of this event (its own `id:` field, or the latest one before it) when it
        /// is a number; nil when there was none, it was reset by an empty `id:`, or it is not a number.
        var id: UInt64?
    }

    private static let keptBytes = 32
    private var line: [UInt8] = []
    private var lineLength = 0
    private var lastWasCR = false
    private var pendingDataNumber: UInt64?
    private var pendingData = false
    /// The last event ID buffer (WHATWG): kept across events until the next `id:` field.
    private var lastEventID: UInt64?

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
                onEvent(Event(dataNumber: pendingDataNumber, id: lastEventID))
            }
            pendingData = false
            pendingDataNumber = nil
            return
        }
        if line.first == UInt8(ascii: ":") {
            if lineLength <= Self.keptBytes {
                onComment(line.dropFirst())
            }
            return
        }
        if line.starts(with: Self.dataField) {
            if !pendingData {
                pendingDataNumber = Self.leadingNumber(Self.fieldValue(line.dropFirst(Self.dataField.count)))
            }
            pendingData = true
        } else if line.starts(with: Self.idField) {
            // An id longer than the kept bytes is not one of the numbers this parser reports.
            lastEventID = lineLength <= Self.keptBytes
                ? Self.wholeNumber(Self.fieldValue(line.dropFirst(Self.idField.count))) : nil
        }
    }

    private static let dataField = Array("data:".utf8)
    private static let idField = Array("id:".utf8)

    /// A field's value: what follows the colon, less one leading space.
    private static func fieldValue(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        bytes.first == UInt8(ascii: " ") ? bytes.dropFirst() : bytes
    }

    /// The number `bytes` spell when they are 1 to 19 digits and nothing else; nil otherwise (an empty id too).
    private static func wholeNumber(_ bytes: ArraySlice<UInt8>) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 19,
            bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return leadingNumber(bytes)
    }

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
