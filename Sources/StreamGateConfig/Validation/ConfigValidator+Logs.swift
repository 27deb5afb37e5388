extension ConfigValidator {
    /// `log: { format: text | json, level: info }`.
    mutating func validateLog(_ raw: RawLog?, at path: ConfigKeyPath) -> LogConfig? {
        guard let raw else { return LogConfig() }
        let format = choice(raw.format, at: path.appending("format"), default: LogFormat.text)
        var level = "info"
        if let text = raw.level {
            guard LogConfig.levels.contains(text) else {
                report(
                    "unknown level \"\(text)\" (expected one of: \(LogConfig.levels.joined(separator: ", ")))",
                    at: path.appending("level")
                )
                return nil
            }
            level = text
        }
        return format.map { LogConfig(format: $0, level: level) }
    }

    /// `access_log: { path: stdout | stderr | FILE, format: text | json }`; a relative file is relative to the
    /// config file's folder, and that folder must exist.
    mutating func validateAccessLog(_ raw: RawAccessLog, at path: ConfigKeyPath, sourcePath: String) -> AccessLogConfig? {
        let format = choice(raw.format, at: path.appending("format"), default: LogFormat.text)
        let destination: AccessLogConfig.Destination
        switch raw.path ?? "stdout" {
        case "stdout":
            destination = .standardOutput
        case "stderr":
            destination = .standardError
        case "":
            report("must not be empty (stdout, stderr or a file)", at: path.appending("path"))
            return nil
        case let file:
            let resolved = ConfigLoader.resolvePath(file, relativeTo: sourcePath)
            let folder = ConfigLoader.folder(of: resolved)
            guard ConfigLoader.isDirectory(atPath: folder) else {
                report("folder \"\(folder)\" does not exist", at: path.appending("path"))
                return nil
            }
            destination = .file(resolved)
        }
        return format.map { AccessLogConfig(destination: destination, format: $0) }
    }
}
