/// A YAML mapping decoded leniently: unknown keys and undecodable values are recorded, never thrown.
protocol RawSection: Decodable {}

/// Marks `RawList` for messages ("expected a list").
protocol RawListMarker {}

/// Any mapping key, to see every key a mapping holds.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(stringValue: String) {
        self.stringValue = stringValue
    }

    init?(intValue: Int) {
        nil
    }
}

/// Reads the keys of one mapping: reports keys outside `Key` and turns each value's decoding error into a
/// recorded issue and a nil value, so one bad value does not hide the others.
struct SectionReader<Key: CodingKey & CaseIterable> {
    private let container: KeyedDecodingContainer<Key>
    private let issues: DecodingIssues
    private let path: ConfigKeyPath

    /// Throws only when the value is not a mapping at all.
    init(_ decoder: any Decoder, keys: Key.Type) throws {
        container = try decoder.container(keyedBy: Key.self)
        issues = decoder.issues
        path = ConfigKeyPath(codingPath: decoder.codingPath)
        let known = Key.allCases.map(\.stringValue)
        for key in try decoder.container(keyedBy: AnyKey.self).allKeys where !known.contains(key.stringValue) {
            let expected = known.joined(separator: ", ")
            issues.record("unknown key (expected one of: \(expected))", at: path.appending(key.stringValue))
        }
    }

    /// The value under `key`; nil when absent, null, or not decodable (then recorded as an issue).
    func value<T: Decodable>(_ key: Key, as type: T.Type = T.self) -> T? {
        do {
            return try container.decodeIfPresent(T.self, forKey: key)
        } catch {
            issues.recordFailure(error, at: path.appending(key.stringValue), expected: T.self)
            return nil
        }
    }
}

/// A YAML list whose elements decode independently: an element that fails is recorded and kept as nil, so the
/// indices of the others still match the document.
struct RawList<Element: Decodable>: Decodable, RawListMarker {
    var items: [Element?]

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let issues = decoder.issues
        let path = ConfigKeyPath(codingPath: decoder.codingPath)
        var items: [Element?] = []
        while !container.isAtEnd {
            let elementPath = path.appending(index: container.currentIndex)
            let elementDecoder = try container.superDecoder()
            do {
                items.append(try Element(from: elementDecoder))
            } catch {
                issues.recordFailure(error, at: elementPath, expected: Element.self)
                items.append(nil)
            }
        }
        self.items = items
    }
}
