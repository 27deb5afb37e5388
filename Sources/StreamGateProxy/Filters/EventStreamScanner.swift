#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Tracks where events end in an upstream `text/event-stream` body, so that the proxy can insert its own heartbeat
/// comments (`:\n\n`) without ever splitting an event, whatever the upstream's chunking. It owns only that
/// knowledge: the bytes themselves are forwarded untouched by the caller.
///
/// Follows WHATWG HTML "server-sent events", 9.2.6 "Interpreting an event stream"
/// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation): lines end with
/// CRLF, LF or CR; a line starting with `:` is a comment; `field:value` takes one optional space after the colon; a
/// line without a colon is a field with an empty value; a blank line dispatches the event when at least one `data`
/// field was seen since the previous blank line; one leading UTF-8 BOM is skipped. Matching raw bytes is equivalent
/// to matching the decoded text, because UTF-8 decoding maps every ASCII byte to itself even next to invalid bytes.
///
/// Decisions worth knowing:
/// - `isAtEventBoundary` stays true while a CR that ended a blank line waits for a possible LF. Inserting `:\n\n`
///   there is safe: if the LF follows, the client reads it as one more blank line, and a blank line right after a
///   blank line dispatches nothing and changes no buffer. Reporting false instead would starve heartbeats on
///   streams that end their lines with CR alone, where the next byte only comes with the next event.
/// - An `id` value longer than `maximumEventIDLength` bytes (as received, and once decoded, where each invalid
///   UTF-8 byte becomes a three-byte U+FFFD) is ignored like one containing U+0000 (the previous value stays): a
///   truncated id is one the upstream never sent. Only an `id` line that spans chunks is copied.
/// - A `retry` value with no digits is ignored; one too large for `Int` saturates at `Int.max`.
///
/// The state is a few flags and integers, plus the id bytes while an `id` line spans chunks.
struct EventStreamScanner {
    /// The longest `id` value, in UTF-8 bytes after the optional space, that is recorded in `lastEventID`.
    static let maximumEventIDLength = 1024

    // Word-sized fields first, then each nine-byte optional or enum with the flags in its padding: 105 bytes
    // instead of 128 (the scanner is part of every event stream's state).

    /// Events dispatched so far: blank lines that closed a block holding at least one `data` field.
    private(set) var eventCount = 0

    /// The value of the last `id` field recorded (the WHATWG "last event ID buffer"), or nil before any. An empty
    /// `id` records "". Ids containing U+0000 or longer than `maximumEventIDLength` bytes are ignored.
    private(set) var lastEventID: String?

    /// The last event ID as a client holds it after the last blank line (the WHATWG "last event ID string", set
    /// from `lastEventID` at every dispatch): unlike `lastEventID`, it never reflects an `id` line of an event
    /// still incomplete.
    private(set) var boundaryEventID: String?

    /// The digits of the `retry` value on the current line.
    private var retryValue = 0
    /// Bytes of the `id` value on the current line that came in earlier chunks (including those not kept in
    /// `idBytes` because the value is already over the limit).
    private var idByteCount = 0
    /// The part of the `id` value on the current line that came in earlier chunks; empty otherwise.
    private var idBytes: [UInt8] = []

    /// The reconnection time in milliseconds from the last valid `retry` field (ASCII digits only), if any.
    private(set) var lastRetry: Int?
    /// An `id` line changed `lastEventID` since the last blank line: only then does the next blank line copy it to
    /// `boundaryEventID` (a stream without ids pays nothing per event for it).
    private var idChangedSinceBoundary = false
    /// The last byte scanned was a CR ending a line, so an LF right after it belongs to the same line end.
    private var pendingCR = false
    /// The last complete line was blank, or no line has ended yet.
    private var afterBlankLine = true
    /// A `data` field was seen since the last blank line: the next blank line dispatches an event.
    private var blockHasData = false
    /// The `id` value on the current line contains U+0000.
    private var idContainsNUL = false

    /// Where the current line stands.
    private var line = LineState.start
    /// How far the start of the stream has matched the BOM.
    private var leadingBOM = BOMProgress.matching(0)

    /// Creates a scanner for the start of a stream.
    init() {}

    /// True when the bytes scanned so far end exactly at an event boundary: at the start of the stream (also after
    /// only a complete BOM), or right after a blank line. Inserting `:\n\n` (or `:text\n\n`) here never changes
    /// the events a client parses. A CR that ended the blank line may still be waiting for its LF; see the type's
    /// documentation for why that is still a boundary.
    var isAtEventBoundary: Bool {
        guard case .start = line, afterBlankLine else {
            return false
        }
        if case .matching(let matched) = leadingBOM, matched > 0 {
            return false
        }
        return true
    }

    /// Scans `bytes`, the next upstream chunk, without copying it.
    ///
    /// - Returns: what a proxy that has already written its own bytes ahead of the upstream's must change in this
    ///   chunk so that a leading BOM does not end up after them. Ignore it when nothing was written ahead.
    @discardableResult
    mutating func scan(_ bytes: ByteBuffer) -> LeadingBOM {
        scan(bytes, stoppingAtBoundary: false).leadingBOM
    }

    /// Scans `bytes` like `scan(_:)`; with `stoppingAtBoundary`, stops right after the first event boundary in
    /// the chunk and returns how many of its bytes lead up to it (`boundaryEnd`), leaving the rest unscanned: for
    /// a stream that must end at the next boundary. Without it, scans the whole chunk and `boundaryEnd` is the
    /// end of the last blank line in it (nil when none ends in it): what a stream that forwards only whole events
    /// may forward.
    mutating func scan(_ bytes: ByteBuffer, stoppingAtBoundary: Bool) -> (leadingBOM: LeadingBOM, boundaryEnd: Int?) {
        bytes.withUnsafeReadableBytes { chunk in
            var adjustment = LeadingBOM.none
            var start = 0
            if case .matching = leadingBOM {
                (adjustment, start) = matchLeadingBOM(chunk)
            }
            let end = scanLines(chunk, from: start, stoppingAtBoundary: stoppingAtBoundary)
            return (adjustment, end)
        }
    }

    /// Matches the first bytes of the stream against the BOM.
    ///
    /// - Returns: the BOM adjustment for this chunk, and the index where line scanning starts.
    private mutating func matchLeadingBOM(_ chunk: UnsafeRawBufferPointer) -> (LeadingBOM, Int) {
        guard case .matching(var matched) = leadingBOM else {
            return (.none, 0)
        }
        let carried = matched
        var index = 0
        while index < chunk.count {
            guard chunk[index] == Self.byteOrderMark[matched] else {
                leadingBOM = .settled
                if matched > 0 {
                    // The bytes that looked like a BOM start the first field name, which is no known field.
                    line = .ignored
                    afterBlankLine = false
                }
                return (LeadingBOM(withheldByteCount: 0, restoredByteCount: carried), index)
            }
            matched += 1
            index += 1
            if matched == Self.byteOrderMark.count {
                leadingBOM = .settled
                return (LeadingBOM(withheldByteCount: index, restoredByteCount: 0), index)
            }
        }
        leadingBOM = .matching(matched)
        return (LeadingBOM(withheldByteCount: chunk.count, restoredByteCount: 0), chunk.count)
    }

    /// Runs the line state machine over `chunk[start...]`.
    private mutating func scanLines(_ chunk: UnsafeRawBufferPointer, from start: Int, stoppingAtBoundary: Bool) -> Int?
    {
        // Where the `id` value on the current line starts in this chunk (0 when it began in an earlier one).
        var idStart = 0
        // The first CR at or after the last line-end search (chunk.count when none), -1 before the first search.
        var nextCR = -1
        // Where the last blank line of the chunk ended.
        var lastBoundaryEnd: Int?
        var index = start
        while index < chunk.count {
            let byte = chunk[index]
            if pendingCR {
                pendingCR = false
                if byte == ASCII.lf {
                    index += 1
                    continue
                }
            }
            if byte == ASCII.lf || byte == ASCII.cr {
                let isBlank = endLine(chunk, idStart: idStart, end: index)
                pendingCR = byte == ASCII.cr
                index += 1
                if isBlank {
                    if stoppingAtBoundary {
                        return index
                    }
                    lastBoundaryEnd = index
                }
                continue
            }
            switch line {
            case .ignored:
                index = Self.nextLineEnd(in: chunk, from: index, nextCR: &nextCR)
                continue
            case .start:
                if byte == UInt8(ascii: "d"), Self.startsDataField(chunk, at: index) {
                    // Most lines of a busy stream are `data:` lines: skip straight to their end.
                    blockHasData = true
                    let end = Self.nextLineEnd(in: chunk, from: index &+ 5, nextCR: &nextCR)
                    if end &+ 1 < chunk.count, chunk[end] == ASCII.lf, chunk[end &+ 1] == ASCII.lf {
                        // The usual event, a `data` line and the blank line after it, both ended by LF: dispatched
                        // here, as the two line ends would be, without a pass through the loop for each.
                        blankLine()
                        afterBlankLine = true
                        index = end &+ 2
                        if stoppingAtBoundary {
                            return index
                        }
                        lastBoundaryEnd = index
                        continue
                    }
                    line = .ignored
                    index = end
                    continue
                }
                line = Self.firstByteState(byte)
            case .name(let field, let matched):
                line = nameState(field, matched: matched, next: byte)
            case .idValueStart:
                line = .idValue
                if byte == ASCII.space {
                    idStart = index + 1
                } else {
                    idStart = index
                    idContainsNUL = byte == 0
                }
            case .retryValueStart:
                line = byte == ASCII.space ? .retryValue(hasDigits: false) : retryState(next: byte)
            case .idValue:
                if byte == 0 {
                    idContainsNUL = true
                }
            case .retryValue:
                line = retryState(next: byte)
            }
            index += 1
        }
        if case .idValue = line {
            keepIDBytes(chunk, from: idStart)
        }
        return lastBoundaryEnd
    }

    /// True when `chunk[index...]` starts with `data:` (the `d` is already known).
    @inline(__always)
    private static func startsDataField(_ chunk: UnsafeRawBufferPointer, at index: Int) -> Bool {
        guard chunk.count - index >= 5 else { return false }
        return chunk[index + 1] == UInt8(ascii: "a") && chunk[index + 2] == UInt8(ascii: "t")
            && chunk[index + 3] == UInt8(ascii: "a") && chunk[index + 4] == ASCII.colon
    }

    /// The state after the first byte of a line.
    private static func firstByteState(_ byte: UInt8) -> LineState {
        switch byte {
        case UInt8(ascii: "d"): .name(.data, matched: 1)
        case UInt8(ascii: "i"): .name(.id, matched: 1)
        case UInt8(ascii: "r"): .name(.retry, matched: 1)
        default: .ignored  // a comment, `event`, or a field that changes nothing here
        }
    }

    /// The state after `next` follows `matched` bytes of `field`'s name.
    private mutating func nameState(_ field: KnownField, matched: Int, next byte: UInt8) -> LineState {
        let name = field.name
        if byte == ASCII.colon {
            guard matched == name.utf8CodeUnitCount else {
                return .ignored
            }
            switch field {
            case .data:
                blockHasData = true
                return .ignored
            case .id:
                idContainsNUL = false
                return .idValueStart
            case .retry:
                retryValue = 0
                return .retryValueStart
            }
        }
        guard matched < name.utf8CodeUnitCount, byte == name.utf8Start[matched] else {
            return .ignored
        }
        return .name(field, matched: matched + 1)
    }

    /// The state after `next` in a `retry` value; anything but a digit makes the field invalid.
    private mutating func retryState(next byte: UInt8) -> LineState {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
            return .ignored
        }
        let (times10, overflow1) = retryValue.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
        retryValue = overflow1 || overflow2 ? Int.max : sum
        return .retryValue(hasDigits: true)
    }

    /// Applies the line that ends at `chunk[end]`; true when it was blank (an event boundary).
    private mutating func endLine(_ chunk: UnsafeRawBufferPointer, idStart: Int, end: Int) -> Bool {
        var isBlank = false
        switch line {
        case .start:
            isBlank = true
            blankLine()
        case .name(let field, let matched) where matched == field.name.utf8CodeUnitCount:
            switch field {
            case .data: blockHasData = true
            case .id:
                lastEventID = ""
                idChangedSinceBoundary = true
            case .retry: break  // an empty value is not a number
            }
        case .idValueStart:
            lastEventID = ""
            idChangedSinceBoundary = true
        case .idValue:
            recordID(chunk, from: idStart, to: end)
        case .retryValue(hasDigits: true):
            lastRetry = retryValue
        case .name, .retryValueStart, .retryValue, .ignored:
            break
        }
        afterBlankLine = isBlank
        line = .start
        return isBlank
    }

    /// A blank line: the last event ID a client holds follows `lastEventID`, and a block with data is an event.
    @inline(__always)
    private mutating func blankLine() {
        if idChangedSinceBoundary {
            boundaryEventID = lastEventID
            idChangedSinceBoundary = false
        }
        if blockHasData {
            eventCount += 1
            blockHasData = false
        }
    }

    /// Records the `id` value made of the kept bytes and `chunk[start..<end]`, unless it must be ignored.
    private mutating func recordID(_ chunk: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        defer {
            idBytes = []
            idByteCount = 0
        }
        guard !idContainsNUL, idByteCount + (end - start) <= Self.maximumEventIDLength else {
            return
        }
        let tail = UnsafeRawBufferPointer(rebasing: chunk[start..<end])
        let decoded: String
        if idBytes.isEmpty {
            decoded = String(decoding: tail, as: UTF8.self)
        } else {
            idBytes.append(contentsOf: tail)
            decoded = String(decoding: idBytes, as: UTF8.self)
        }
        // Invalid UTF-8 decodes to U+FFFD (three bytes for one), so the decoded id is checked again.
        guard decoded.utf8.count <= Self.maximumEventIDLength else { return }
        lastEventID = decoded
        idChangedSinceBoundary = true
    }

    /// Keeps the part of an unfinished `id` value that is in this chunk, while it is within the limit.
    private mutating func keepIDBytes(_ chunk: UnsafeRawBufferPointer, from start: Int) {
        let count = chunk.count - start
        if idByteCount + count <= Self.maximumEventIDLength {
            idBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start...]))
        } else {
            idBytes = []
        }
        idByteCount += count
    }

    /// The index of the next CR or LF at or after `start`, or the end of `chunk`.
    ///
    /// memchr (vectorised in libc) instead of a byte loop: the rest of a data line is most of the stream. The CR
    /// position is searched once and reused while it lies ahead, so a chunk without CR (the usual case) costs one
    /// CR search in all plus one LF search per line, bounded by the CR.
    private static func nextLineEnd(in chunk: UnsafeRawBufferPointer, from start: Int, nextCR: inout Int) -> Int {
        guard start < chunk.count, let base = chunk.baseAddress else { return chunk.count }
        let origin = UnsafeMutableRawPointer(mutating: base)
        if nextCR < start {
            nextCR = memchr(base + start, Int32(ASCII.cr), chunk.count - start).map { $0 - origin } ?? chunk.count
        }
        if let lf = memchr(base + start, Int32(ASCII.lf), nextCR - start) {
            return lf - origin
        }
        return nextCR
    }
}

extension EventStreamScanner {
    /// Fields whose value the scanner needs; `event` and unknown fields change nothing it reports.
    private enum KnownField {
        case data
        case id
        case retry

        /// The field name as it appears on the wire.
        var name: StaticString {
            switch self {
            case .data: "data"
            case .id: "id"
            case .retry: "retry"
            }
        }
    }

    /// Where the scanner stands within the current line.
    private enum LineState {
        /// Nothing of the line yet.
        case start
        /// The first `matched` bytes of the line spell the start of `field`'s name.
        case name(KnownField, matched: Int)
        /// Right after `id:`, where one space may follow.
        case idValueStart
        /// Inside an `id` value.
        case idValue
        /// Right after `retry:`, where one space may follow.
        case retryValueStart
        /// Inside a `retry` value made only of digits so far.
        case retryValue(hasDigits: Bool)
        /// A comment, a `data` value, an invalid `retry` or a field that changes nothing: only the line end counts.
        case ignored
    }

    /// How far the start of the stream has matched the BOM.
    private enum BOMProgress {
        /// The stream so far is the first `n` bytes of the BOM (0, 1 or 2).
        case matching(Int)
        /// The BOM was skipped, or the stream does not start with one.
        case settled
    }

    /// The bytes the grammar cares about.
    private enum ASCII {
        static let lf = UInt8(ascii: "\n")
        static let cr = UInt8(ascii: "\r")
        static let colon = UInt8(ascii: ":")
        static let space = UInt8(ascii: " ")
    }
}
