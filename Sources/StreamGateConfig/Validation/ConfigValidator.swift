/// Turns the raw document into `StreamGateConfiguration`, recording every rule it breaks instead of stopping at
/// the first. The result is only meaningful when `issues` stays empty.
struct ConfigValidator {
    static let durationHint = "(use e.g. 250ms, 15s, 5m, 1h)"

    private(set) var issues: [(path: ConfigKeyPath, message: String)] = []
    /// Values that were present but failed to decode; already reported, so not "missing".
    private let failedPaths: Set<ConfigKeyPath>
    /// Gives the lines of values the configuration keeps a `ConfigLocation` for.
    private let locator: NodeLocator

    init(failedPaths: Set<ConfigKeyPath>, locator: NodeLocator) {
        self.failedPaths = failedPaths
        self.locator = locator
    }

    mutating func validate(_ raw: RawConfiguration, sourcePath: String) -> StreamGateConfiguration {
        validateVersion(raw.version, at: .root.appending("version"))
        let (listeners, listenerAddresses) = validateListeners(
            raw.listeners,
            at: .root.appending("listeners"),
            sourcePath: sourcePath
        )
        let admin = raw.admin.flatMap {
            validateAdmin(
                $0,
                at: .root.appending("admin"),
                listenerAddresses: listenerAddresses,
                sourcePath: sourcePath
            )
        }
        let log = validateLog(raw.log, at: .root.appending("log"))
        let accessLog = raw.accessLog.flatMap {
            validateAccessLog($0, at: .root.appending("access_log"), sourcePath: sourcePath)
        }
        let upstreams = validateUpstreams(raw.upstreams, at: .root.appending("upstreams"), sourcePath: sourcePath)
        let routes = validateRoutes(raw.routes, at: .root.appending("routes"), upstreams: raw.upstreams)
        let drain = validateDrain(raw.drain, at: .root.appending("drain"))
        let limits = validateLimits(raw.limits, at: .root.appending("limits"))
        return StreamGateConfiguration(
            sourcePath: sourcePath,
            listeners: listeners,
            admin: admin,
            log: log ?? LogConfig(),
            accessLog: accessLog,
            upstreams: upstreams,
            routes: routes,
            drain: drain ?? DrainConfig(),
            limits: limits ?? LimitsConfig()
        )
    }

    mutating func report(_ message: String, at path: ConfigKeyPath) {
        issues.append((path, message))
    }

    /// Where `path` is in the document, for values checked again after loading.
    func location(of path: ConfigKeyPath) -> ConfigLocation {
        ConfigLocation(keyPath: path.description, line: locator.line(of: path))
    }

    /// Whether the document has the key at `path` with a null value (decoded as absent).
    func isPresentButEmpty(_ path: ConfigKeyPath) -> Bool {
        !failedPaths.contains(path) && locator.isNull(at: path)
    }

    private mutating func validateVersion(_ version: Int?, at path: ConfigKeyPath) {
        switch version {
        case 1:
            return
        case .some(let other):
            report("unsupported version \(other) (expected 1)", at: path)
        case .none:
            if !failedPaths.contains(path) {
                report("required key is missing (expected 1)", at: path)
            }
        }
    }

    // MARK: - Value helpers

    /// `value`, or nil after reporting it missing (unless it was present but undecodable, already reported).
    mutating func required<T>(_ value: T?, at path: ConfigKeyPath) -> T? {
        if value == nil, !failedPaths.contains(path) {
            report("required key is missing", at: path)
        }
        return value
    }

    /// The elements of a list that must not be empty, with their paths; reports `emptyMessage` when it is.
    mutating func nonEmpty<T>(
        _ list: RawList<T>?,
        at path: ConfigKeyPath,
        _ emptyMessage: String
    ) -> [(T, ConfigKeyPath)] {
        guard let list else {
            if !failedPaths.contains(path) {
                report(emptyMessage, at: path)
            }
            return []
        }
        if list.items.isEmpty {
            report(emptyMessage, at: path)
        }
        return list.items.enumerated().compactMap { index, item in
            item.map { ($0, path.appending(index: index)) }
        }
    }

    /// A non-empty name, or nil after reporting why not.
    mutating func name(_ value: String?, at path: ConfigKeyPath) -> String? {
        guard let name = required(value, at: path) else {
            return nil
        }
        guard !name.isEmpty else {
            report("must not be empty", at: path)
            return nil
        }
        return name
    }

    /// The parsed duration, `fallback` when absent, or nil after reporting an invalid one.
    mutating func duration(_ text: String?, at path: ConfigKeyPath, default fallback: Duration) -> Duration? {
        guard let text else {
            return fallback
        }
        guard let duration = DurationParser.parse(text) else {
            report("invalid duration \"\(text)\" \(Self.durationHint)", at: path)
            return nil
        }
        return duration
    }

    /// The case spelled `text`, `fallback` when absent, or nil after reporting a spelling that is not one of the
    /// cases (the message lists them).
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ text: String?,
        at path: ConfigKeyPath,
        default fallback: Choice
    ) -> Choice? where Choice.RawValue == String {
        guard let text else {
            return fallback
        }
        guard let value = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            report("invalid value \"\(text)\" (expected one of: \(allowed))", at: path)
            return nil
        }
        return value
    }

    /// The integer, `fallback` when absent, or nil after reporting one outside `range`.
    mutating func integer(
        _ value: Int?,
        at path: ConfigKeyPath,
        in range: ClosedRange<Int>,
        default fallback: Int
    ) -> Int? {
        guard let value else {
            return fallback
        }
        guard range.contains(value) else {
            if range.upperBound == Int.max {
                report("must be at least \(range.lowerBound) (got \(value))", at: path)
            } else {
                report("must be in \(range.lowerBound)...\(range.upperBound) (got \(value))", at: path)
            }
            return nil
        }
        return value
    }

    /// The byte size `text` spells (`65536`, `64KiB`, `10MiB`), `fallback` when absent, or nil after reporting one
    /// that is invalid or outside `range`.
    mutating func byteSize(
        _ text: String?,
        at path: ConfigKeyPath,
        in range: ClosedRange<Int>,
        default fallback: Int
    ) -> Int? {
        guard let text else { return fallback }
        guard let bytes = ByteSizeParser.parse(text) else {
            report("invalid size \"\(text)\" (use bytes, or e.g. 64KiB, 10MiB, 1GiB)", at: path)
            return nil
        }
        guard range.contains(bytes) else {
            let upper = range.upperBound == Int.max ? "" : "...\(ByteSizeParser.text(range.upperBound))"
            report("must be in \(ByteSizeParser.text(range.lowerBound))\(upper) (got \(text))", at: path)
            return nil
        }
        return bytes
    }

    /// The parsed address, or nil after reporting why it is missing or invalid.
    mutating func address(_ text: String?, at path: ConfigKeyPath, ports: ClosedRange<Int>) -> HostPort? {
        guard let text = required(text, at: path) else {
            return nil
        }
        switch HostPort.parse(text, ports: ports) {
        case .success(let address):
            return address
        case .failure(let problem):
            report(problem.message, at: path)
            return nil
        }
    }
}
