/// Which events of a resumed upstream the client already has: the one with the id it sent as `Last-Event-ID`,
/// and, when ids are numbers or the same shape of numbers (`1526919030474-55`, `3.14`), every id that sorts at or
/// before it. So an origin that resends the last event, or replays from its start, gives no duplicate. Opaque ids
/// (UUIDs, words) are matched only against the last id itself: nothing says which of them came before it.
struct ReplayedEvents {
    let lastRelayedID: String
    /// The digit runs of `lastRelayedID` and what separates them, when it is made only of those.
    private let lastShape: NumberShape?

    init(lastRelayedID: String) {
        self.lastRelayedID = lastRelayedID
        self.lastShape = NumberShape(lastRelayedID)
    }

    /// The event with `id` is one the client already got (or one before it).
    func clientHas(_ id: String) -> Bool {
        if id == lastRelayedID { return true }
        guard let lastShape, let shape = NumberShape(id) else { return false }
        return shape.sortsAtOrBefore(lastShape)
    }
}

/// An id made only of ASCII digit runs joined by separators (`-`, `.`, `:`, `_`, `/`): compared run by run as
/// numbers when two ids have the same separators in the same places.
struct NumberShape {
    /// Each digit run without its leading zeros ("" for zero).
    private var runs: [Substring.UTF8View] = []
    private var separators: [UInt8] = []

    private static let separatorBytes: Set<UInt8> = [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "_"), UInt8(ascii: "/")]

    init?(_ id: String) {
        let bytes = Substring(id).utf8
        guard !bytes.isEmpty else { return nil }
        var runStart = bytes.startIndex
        var index = bytes.startIndex
        while index <= bytes.endIndex {
            let atEnd = index == bytes.endIndex
            let byte = atEnd ? 0 : bytes[index]
            if atEnd || Self.separatorBytes.contains(byte) {
                guard runStart < index else { return nil }  // empty run: two separators, or one at an end
                var run = bytes[runStart..<index]
                while run.count > 1, run.first == UInt8(ascii: "0") {
                    run = run.dropFirst()
                }
                runs.append(run)
                if atEnd { break }
                separators.append(byte)
                runStart = bytes.index(after: index)
            } else if byte < UInt8(ascii: "0") || byte > UInt8(ascii: "9") {
                return nil
            }
            index = bytes.index(after: index)
        }
    }

    /// True when both have the same shape and `self` is numerically at or before `other`.
    func sortsAtOrBefore(_ other: NumberShape) -> Bool {
        guard separators == other.separators, runs.count == other.runs.count else { return false }
        for (mine, theirs) in zip(runs, other.runs) {
            if mine.count != theirs.count {
                return mine.count < theirs.count
            }
            if !mine.elementsEqual(theirs) {
                return mine.lexicographicallyPrecedes(theirs)
            }
        }
        return true
    }
}
