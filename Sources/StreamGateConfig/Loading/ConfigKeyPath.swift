/// A location in the configuration document, printed as `routes[1].timeouts.idle`.
struct ConfigKeyPath: Hashable, CustomStringConvertible {
    /// One step down the document: a mapping key or a list index.
    enum Component: Hashable {
        case key(String)
        case index(Int)
    }

    var components: [Component]

    static let root = ConfigKeyPath(components: [])

    init(components: [Component]) {
        self.components = components
    }

    /// The path a `Decoder` reports: integer keys are list indices.
    init(codingPath: [any CodingKey]) {
        components = codingPath.map { key in
            key.intValue.map(Component.index) ?? .key(key.stringValue)
        }
    }

    func appending(_ key: String) -> ConfigKeyPath {
        ConfigKeyPath(components: components + [.key(key)])
    }

    func appending(index: Int) -> ConfigKeyPath {
        ConfigKeyPath(components: components + [.index(index)])
    }

    var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                text += text.isEmpty ? key : "." + key
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }
}
