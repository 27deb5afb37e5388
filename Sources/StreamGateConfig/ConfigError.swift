import Foundation

/// One problem found in a configuration file, located by file, line and key path.
///
/// Printed as `file:line: keyPath: message`, e.g.
/// `conf/streamgate.yaml:14: routes[1].upstream: no upstream named "ap"`; the line and the key path are left out
/// when unknown or empty.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration file's path as given to the loader.
    public var file: String
    /// 1-based line in `file`, when the problem can be tied to one.
    public var line: Int?
    /// Where in the document, e.g. `routes[1].timeouts.idle`; empty for problems with the file as a whole.
    public var keyPath: String
    /// What is wrong, phrased for an operator.
    public var message: String

    public init(file: String, line: Int?, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
        }
        text += ": "
        if !keyPath.isEmpty {
            text += keyPath + ": "
        }
        return text + message
    }
}

/// Every problem found while loading one configuration file; thrown by `ConfigLoader`.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The problems, in file order (those without a line last).
    public var errors: [ConfigError]

    public init(errors: [ConfigError]) {
        self.errors = errors
    }

    /// One error per line.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }

    public var errorDescription: String? {
        description
    }
}
