import Foundation
import Yams

/// Loads a StreamGate configuration file: YAML -> node tree -> raw values -> validated `StreamGateConfiguration`.
///
/// Every problem found is reported at once, each with file, line and key path; unknown keys are errors.
public enum ConfigLoader {
    /// Reads, decodes and validates the file. Throws ConfigErrors holding EVERY error found, not just the first.
    public static func load(path: String) throws(ConfigErrors) -> StreamGateConfiguration {
        let yaml: String
        do {
            yaml = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigErrors(errors: [fileError(path, "cannot read file: \(reason(error, path))")])
        }
        return try load(yaml: yaml, sourcePath: path)
    }

    /// Same, from text; `sourcePath` is used in messages and to resolve relative paths (its folder).
    public static func load(yaml: String, sourcePath: String) throws(ConfigErrors) -> StreamGateConfiguration {
        let composed: Node?
        do {
            composed = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigErrors(errors: [YAMLSyntaxError.configError(for: error, yaml: yaml, file: sourcePath)])
        }
        guard let root = composed else {
            throw ConfigErrors(errors: [fileError(sourcePath, emptyMessage)])
        }
        let issues = DecodingIssues(root: root)
        var problems: [(path: ConfigKeyPath, message: String)] = []
        do {
            let raw = try YAMLDecoder().decode(RawConfiguration.self, from: root, userInfo: issues.userInfo)
            var validator = ConfigValidator(failedPaths: issues.failedPaths, locator: issues.locator)
            let configuration = validator.validate(raw, sourcePath: sourcePath)
            problems = issues.issues + validator.issues
            if problems.isEmpty {
                return configuration
            }
        } catch {
            issues.recordFailure(error, at: .root, expected: RawConfiguration.self)
            problems = issues.issues
        }
        throw ConfigErrors(errors: located(problems, locator: issues.locator, file: sourcePath))
    }

    /// The problems as `ConfigError`s with lines, in file order (problems on one line keep their order).
    private static func located(
        _ problems: [(path: ConfigKeyPath, message: String)],
        locator: NodeLocator,
        file: String
    ) -> [ConfigError] {
        problems.enumerated()
            .map { order, problem in
                let line = locator.line(of: problem.path)
                let keyPath = problem.path.description
                return (order, ConfigError(file: file, line: line, keyPath: keyPath, message: problem.message))
            }
            .sorted { ($0.1.line ?? Int.max, $0.0) < ($1.1.line ?? Int.max, $1.0) }
            .map(\.1)
    }

    private static func fileError(_ file: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: nil, keyPath: "", message: message)
    }

    /// `path` as the process should open it: absolute paths as they are, relative ones against the folder of the
    /// configuration file at `sourcePath` (or the working directory when that path has no folder).
    static func resolvePath(_ path: String, relativeTo sourcePath: String) -> String {
        guard !path.hasPrefix("/"), let slash = sourcePath.lastIndex(of: "/") else {
            return path
        }
        let folder = sourcePath[...slash]
        return folder + path
    }

    private static let emptyMessage = "the file holds no configuration (expected version, listeners, upstreams, routes)"

    private static func reason(_ error: any Error, _ path: String) -> String {
        unreadableReason(atPath: path) ?? error.localizedDescription
    }

    /// The text of the file at `path`, nil when it cannot be read as UTF-8.
    static func readText(atPath path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// The folder part of `path` (`.` when it has none).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func isDirectory(atPath path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Why the file at `path` cannot be read ("no such file", "is a directory", "permission denied"), or nil when
    /// it is a readable file.
    static func unreadableReason(atPath path: String) -> String? {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return "no such file"
        }
        if isDirectory.boolValue {
            return "is a directory"
        }
        if !FileManager.default.isReadableFile(atPath: path) {
            return "permission denied"
        }
        return nil
    }
}
