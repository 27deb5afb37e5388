import Yams

/// Collects the problems found while decoding the raw configuration, so decoding goes on past the first one.
///
/// Handed to the raw types through the decoder's `userInfo`; used on one thread during one load.
final class DecodingIssues {
    static let userInfoKey = CodingUserInfoKey(rawValue: "StreamGateConfig.DecodingIssues")

    let locator: NodeLocator
    private(set) var issues: [(path: ConfigKeyPath, message: String)] = []
    /// Paths whose value was present but could not be decoded: the validator does not call them missing.
    private(set) var failedPaths: Set<ConfigKeyPath> = []

    init(root: Node) {
        locator = NodeLocator(root: root)
    }

    var userInfo: [CodingUserInfoKey: Any] {
        guard let key = Self.userInfoKey else {
            return [:]
        }
        return [key: self]
    }

    func record(_ message: String, at path: ConfigKeyPath) {
        issues.append((path, message))
    }

    /// Records a decoding failure of the value at `path`, which was expected to be `expected`.
    func recordFailure(_ error: any Error, at path: ConfigKeyPath, expected: Any.Type) {
        failedPaths.insert(path)
        guard let decodingError = error as? DecodingError else {
            record("\(error)", at: path)
            return
        }
        switch decodingError {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let errorPath = ConfigKeyPath(codingPath: context.codingPath)
            let expectation = errorPath == path ? expected : type
            record(mismatchMessage(expected: expectation, at: errorPath), at: errorPath)
        case .keyNotFound(let key, let context):
            record("required key is missing", at: ConfigKeyPath(codingPath: context.codingPath + [key]))
        case .dataCorrupted(let context):
            record(context.debugDescription, at: ConfigKeyPath(codingPath: context.codingPath))
        @unknown default:
            record("\(decodingError)", at: path)
        }
    }

    private func mismatchMessage(expected: Any.Type, at path: ConfigKeyPath) -> String {
        "expected \(Self.describe(type: expected)), found \(Self.describe(node: locator.node(at: path)))"
    }

    static func describe(type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is any BinaryInteger.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is Node.Sequence.Type, is any RawListMarker.Type: return "a list"
        case is Node.Mapping.Type, is any RawSection.Type: return "a mapping"
        case is Node.Scalar.Type: return "a single value"
        case is RawServer.Type: return "an address or a mapping with address and weight"
        default: return "\(type)"
        }
    }

    static func describe(node: Node?) -> String {
        switch node {
        case .none: return "nothing"
        case .some(.mapping): return "a mapping"
        case .some(.sequence): return "a list"
        case .some(.alias): return "an alias"
        case .some(.scalar(let scalar)):
            return Node.scalar(scalar).null != nil ? "nothing" : "\"\(scalar.string)\""
        }
    }
}

extension Decoder {
    /// The collector of this load; a throwaway one if the decoder was not set up by `ConfigLoader`.
    var issues: DecodingIssues {
        if let key = DecodingIssues.userInfoKey, let issues = userInfo[key] as? DecodingIssues {
            return issues
        }
        return DecodingIssues(root: Node.scalar(.init("")))
    }
}
