import Yams

/// Finds the line of a key path in the composed YAML tree.
///
/// A mapping key is located at the key itself, a list element at the element. When the path leads past the end of
/// the document (a missing key), the deepest node that exists gives the line.
struct NodeLocator {
    let root: Node

    /// 1-based line for `path`, or nil if the document carries no marks.
    func line(of path: ConfigKeyPath) -> Int? {
        var node = root
        var line = root.mark?.line
        for component in path.components {
            switch component {
            case .key(let key):
                guard let pair = node.mapping?.first(where: { $0.key.string == key }) else {
                    return line
                }
                line = pair.key.mark?.line ?? line
                node = pair.value
            case .index(let index):
                guard let sequence = node.sequence, sequence.indices.contains(index) else {
                    return line
                }
                node = sequence[index]
                line = node.mark?.line ?? line
            }
        }
        return line
    }

    /// The node at `path`, if the document has one there.
    func node(at path: ConfigKeyPath) -> Node? {
        var node = root
        for component in path.components {
            switch component {
            case .key(let key):
                guard let value = node.mapping?.first(where: { $0.key.string == key })?.value else {
                    return nil
                }
                node = value
            case .index(let index):
                guard let sequence = node.sequence, sequence.indices.contains(index) else {
                    return nil
                }
                node = sequence[index]
            }
        }
        return node
    }

    /// Whether the document holds an explicit null (`key:` with no value, `~`, `null`) at `path`.
    func isNull(at path: ConfigKeyPath) -> Bool {
        node(at: path)?.null != nil
    }
}
