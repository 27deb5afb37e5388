import Foundation

/// The client's reading of the answer to its WebSocket Upgrade: collects bytes up to the blank line, then requires
/// `101` and the `Sec-WebSocket-Accept` that matches its key. Bytes after the head are frames already.
struct WebSocketUpgradeResponse {
    enum Outcome {
        case needMore
        case upgraded(leftover: [UInt8])
        case refused(String)
    }

    static let maxHeadBytes = 16 * 1024

    let expectedAccept: String
    private var bytes: [UInt8] = []

    init(expectedAccept: String) {
        self.expectedAccept = expectedAccept
    }

    mutating func consume(_ chunk: UnsafeRawBufferPointer) -> Outcome {
        bytes.append(contentsOf: chunk)
        guard let end = headEnd() else {
            return bytes.count > Self.maxHeadBytes ? .refused("response head over 16 KiB") : .needMore
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        let leftover = Array(bytes[(end + 4)...])
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            return .refused("malformed status line")
        }
        guard status == 101 else { return .refused("status \(status)") }
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "sec-websocket-accept" {
                return value == expectedAccept ? .upgraded(leftover: leftover) : .refused("wrong Sec-WebSocket-Accept")
            }
        }
        return .refused("101 without Sec-WebSocket-Accept")
    }

    /// The index of the "\r\n\r\n" that ends the head, if it has arrived.
    private func headEnd() -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
