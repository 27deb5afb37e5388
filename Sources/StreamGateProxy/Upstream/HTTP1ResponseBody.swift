import NIOCore
import NIOHTTP1

/// Frames one HTTP/1.1 response body (RFC 9112 sections 6 and 7) once its head has been parsed: a fixed length, the
/// chunked coding with its trailer section, or everything until the connection closes. Owns only the framing
/// state, a few words, so a long-lived event stream keeps no parser of its own. Body bytes come out as slices of the
/// buffers read (no copy). Stricter than llhttp where the two could disagree: a chunk line must end in CRLF, its
/// size is hex digits only, and a trailer field may not be folded; anything else is a `Failure` and the connection
/// is not reused.
struct HTTP1ResponseBody {
    /// How the body's end is known, from the head.
    enum Framing: Equatable {
        case length(Int)
        case chunked
        case untilClose
    }

    /// What a piece of input yields, in order.
    enum Part {
        case data(ByteBuffer)
        /// The body ended; trailer fields when the chunked coding carried any.
        case end(HTTPHeaders?)
    }

    /// The body's bytes break its framing.
    struct Failure: Error, CustomStringConvertible, Equatable {
        let reason: String
        var description: String { "upstream response body: \(reason)" }
    }

    /// The longest chunk extension accepted, and the largest trailer section.
    static let maxExtensionBytes = 4096
    static let maxTrailerBytes = 64 * 1024

    private enum State {
        case fixed(remaining: Int)
        case chunkSize(value: Int, digits: Int)
        /// Inside `;name[=value]` after a chunk size: `length` bytes so far, `part` where in the grammar.
        case chunkExtension(value: Int, length: Int, part: ExtensionPart)
        case chunkSizeLF(value: Int)
        case chunkData(remaining: Int)
        case chunkDataCR
        case chunkDataLF
        case trailers
        case untilClose
        case done
    }

    /// Where a chunk extension is (RFC 9112 section 7.1.1, without whitespace): `;` name, then `=` and a token or a
    /// quoted string, then `;` or the line's end.
    private enum ExtensionPart {
        case nameStart, name, valueStart, token, quoted, quotedEscape, afterQuoted
    }

    private var state: State
    private var trailerBytes: [UInt8] = []

    /// The framing a parsed final response head gives its body, or nil when it says the body cannot be framed
    /// (a Content-Length that is not one decimal number). Heads without a body (1xx, 204, 304, answers to HEAD) are
    /// ended by the head decoder before this is asked.
    static func framing(of head: HTTPResponseHead) -> Framing? {
        let codings = head.headers[canonicalForm: "transfer-encoding"]
        if let last = codings.last {
            return last.lowercased() == "chunked" ? .chunked : .untilClose
        }
        let lengths = head.headers[canonicalForm: "content-length"]
        guard let first = lengths.first else { return .untilClose }
        guard lengths.allSatisfy({ $0 == first }), let length = decimal(String(first)) else { return nil }
        return .length(length)
    }

    init(_ framing: Framing) {
        switch framing {
        case .length(let length): state = length == 0 ? .done : .fixed(remaining: length)
        case .chunked: state = .chunkSize(value: 0, digits: 0)
        case .untilClose: state = .untilClose
        }
    }

    /// True once the end has been reported.
    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Takes bytes from `buffer` and reports the body's parts; stops after the end, leaving what follows it in
    /// `buffer`.
    mutating func decode(_ buffer: inout ByteBuffer, _ emit: (Part) -> Void) throws {
        while buffer.readableBytes > 0 {
            switch state {
            case .done:
                return
            case .fixed(let remaining):
                let take = min(remaining, buffer.readableBytes)
                emit(.data(buffer.readSlice(length: take)!))
                if take == remaining {
                    state = .done
                    emit(.end(nil))
                } else {
                    state = .fixed(remaining: remaining - take)
                }
            case .untilClose:
                emit(.data(buffer.readSlice(length: buffer.readableBytes)!))
            case .chunkData(let remaining):
                let take = min(remaining, buffer.readableBytes)
                emit(.data(buffer.readSlice(length: take)!))
                state = take == remaining ? .chunkDataCR : .chunkData(remaining: remaining - take)
            case .trailers:
                if try readTrailers(&buffer) {
                    state = .done
                    emit(.end(try trailerFields()))
                }
            default:
                try step(buffer.readInteger(as: UInt8.self)!)
            }
        }
    }

    /// The connection closed: the end of a body read until close, or a failure for any other unfinished body.
    mutating func finish() throws -> Part? {
        switch state {
        case .done:
            return nil
        case .untilClose:
            state = .done
            return .end(nil)
        default:
            throw Failure(reason: "the connection closed before the body ended")
        }
    }

    /// One byte of a chunk line or of the CRLF after a chunk's data.
    private mutating func step(_ byte: UInt8) throws {
        switch state {
        case .chunkSize(let value, let digits):
            if let digit = Self.hexValue(byte) {
                guard digits < 15 else { throw Failure(reason: "a chunk size over 15 hex digits") }
                state = .chunkSize(value: value << 4 | digit, digits: digits + 1)
            } else if digits > 0 && byte == UInt8(ascii: ";") {
                state = .chunkExtension(value: value, length: 0, part: .nameStart)
            } else if digits > 0 && byte == UInt8(ascii: "\r") {
                state = .chunkSizeLF(value: value)
            } else {
                throw Failure(reason: "an invalid chunk size")
            }
        case .chunkExtension(let value, let length, let part):
            guard length < Self.maxExtensionBytes else {
                throw Failure(reason: "a chunk extension over \(Self.maxExtensionBytes) bytes")
            }
            let next = try Self.extensionStep(part, byte)
            state = next.map { .chunkExtension(value: value, length: length + 1, part: $0) } ?? .chunkSizeLF(value: value)
        case .chunkSizeLF(let value):
            guard byte == UInt8(ascii: "\n") else { throw Failure(reason: "a chunk size line without CRLF") }
            state = value == 0 ? .trailers : .chunkData(remaining: value)
        case .chunkDataCR:
            guard byte == UInt8(ascii: "\r") else { throw Failure(reason: "chunk data longer than its size") }
            state = .chunkDataLF
        case .chunkDataLF:
            guard byte == UInt8(ascii: "\n") else { throw Failure(reason: "chunk data without CRLF after it") }
            state = .chunkSize(value: 0, digits: 0)
        case .fixed, .untilClose, .chunkData, .trailers, .done:
            preconditionFailure("not a byte-wise state")
        }
    }

    /// Collects the trailer section; true once its empty last line has come.
    private mutating func readTrailers(_ buffer: inout ByteBuffer) throws -> Bool {
        while let byte = buffer.readInteger(as: UInt8.self) {
            guard trailerBytes.count < Self.maxTrailerBytes else {
                throw Failure(reason: "a trailer section over \(Self.maxTrailerBytes) bytes")
            }
            trailerBytes.append(byte)
            guard byte == UInt8(ascii: "\n") else { continue }
            let count = trailerBytes.count
            guard count >= 2, trailerBytes[count - 2] == UInt8(ascii: "\r") else {
                throw Failure(reason: "a trailer line without CRLF")
            }
            if count == 2 || (count >= 4 && trailerBytes[count - 4] == UInt8(ascii: "\r")
                && trailerBytes[count - 3] == UInt8(ascii: "\n")) {
                return true
            }
        }
        return false
    }

    /// The collected trailer section as fields; nil when it was empty.
    private mutating func trailerFields() throws -> HTTPHeaders? {
        defer { trailerBytes = [] }
        var fields = HTTPHeaders()
        var lines = trailerBytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines.removeLast()  // after the last LF
        for var line in lines {
            line.removeLast()  // CR
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[..<colon].allSatisfy(Self.isTokenByte)
            else {
                throw Failure(reason: "an invalid trailer field line")
            }
            var value = line[line.index(after: colon)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value.removeFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
            guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
                throw Failure(reason: "a control character in a trailer field value")
            }
            fields.add(name: String(decoding: line[..<colon], as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        }
        return fields.isEmpty ? nil : fields
    }

    /// The next part of a chunk extension after `byte`, or nil at the CR that ends the line.
    private static func extensionStep(_ part: ExtensionPart, _ byte: UInt8) throws -> ExtensionPart? {
        let semicolon = UInt8(ascii: ";"), equals = UInt8(ascii: "="), quote = UInt8(ascii: "\""), cr = UInt8(ascii: "\r")
        switch part {
        case .nameStart where isTokenByte(byte), .name where isTokenByte(byte):
            return .name
        case .name where byte == equals:
            return .valueStart
        case .valueStart where isTokenByte(byte), .token where isTokenByte(byte):
            return .token
        case .valueStart where byte == quote:
            return .quoted
        case .quoted where byte == quote:
            return .afterQuoted
        case .quoted where byte == UInt8(ascii: "\\"):
            return .quotedEscape
        case .quoted where byte == 0x09 || (byte >= 0x20 && byte != 0x7F),
            .quotedEscape where byte == 0x09 || (byte >= 0x20 && byte != 0x7F):
            return .quoted
        case .name, .token, .afterQuoted:
            if byte == semicolon { return .nameStart }
            if byte == cr { return nil }
        default:
            break
        }
        throw Failure(reason: "an invalid chunk extension")
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// A field name character (RFC 9110 section 5.6.2 `tchar`).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// A Content-Length value: decimal digits only, at most 18 of them.
    private static func decimal(_ text: String) -> Int? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 18, utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(text)
    }
}
