import Yams

/// Turns the errors Yams throws for malformed YAML into a located `ConfigError`.
enum YAMLSyntaxError {
    static func configError(for error: any Error, yaml: String, file: String) -> ConfigError {
        guard let yamlError = error as? YamlError else {
            return ConfigError(file: file, line: nil, keyPath: "", message: "invalid YAML: \(error)")
        }
        var line: Int?
        let message: String
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            line = mark.line
            if let context {
                message = "invalid YAML: \(context.text) at line \(context.mark.line), \(problem)"
            } else {
                message = "invalid YAML: \(problem)"
            }
        case .reader(let problem, let offset, _, _):
            line = offset.map { lineNumber(atCharacterOffset: $0, in: yaml) }
            message = "invalid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            line = context.mark.line > 0 ? context.mark.line : nil
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            message = "key \(keys) appears more than once in the same mapping"
        default:
            message = "invalid YAML: \(yamlError)"
        }
        return ConfigError(file: file, line: line, keyPath: "", message: message)
    }

    /// 1-based line of the character at `offset`.
    private static func lineNumber(atCharacterOffset offset: Int, in text: String) -> Int {
        1 + text.prefix(offset).filter { $0 == "\n" }.count
    }
}
