import Foundation

/// One line a Python test peer printed: a JSON object with `event` (its name), `time` (Unix seconds) and more
/// fields, every value a string.
public struct PythonPeerEvent: Sendable, CustomStringConvertible {
    public let name: String
    public let fields: [String: String]

    /// The field `key`, or nil.
    public subscript(_ key: String) -> String? {
        fields[key]
    }

    /// The field `key` as an integer, or nil.
    public func int(_ key: String) -> Int? {
        fields[key].flatMap { Int($0) }
    }

    /// The field `key` as a number, or nil.
    public func double(_ key: String) -> Double? {
        fields[key].flatMap { Double($0) }
    }

    /// When the peer printed the event (Unix seconds).
    public var time: Double? {
        double("time")
    }

    public var description: String {
        let rest = fields.filter { $0.key != "event" && $0.key != "time" }.sorted { $0.key < $1.key }
        return name + "(" + rest.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + ")"
    }

    /// The events among `text`'s lines; lines that are not such objects (a traceback, say) are skipped.
    static func parse(_ text: String) -> [PythonPeerEvent] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{"),
                  let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let name = object["event"] as? String
            else { return nil }
            var fields: [String: String] = [:]
            for (key, value) in object {
                fields[key] = value as? String ?? "\(value)"
            }
            return PythonPeerEvent(name: name, fields: fields)
        }
    }
}

extension Array where Element == PythonPeerEvent {
    /// The events called `name`.
    public func named(_ name: String) -> [PythonPeerEvent] {
        filter { $0.name == name }
    }
}
