import Foundation

/// Whether a level of the scale scenario fits on this machine before it is tried. Each process has its own
/// open-file limit (the proxy inherits the bench's): the proxy needs one socket per upstream connection (one per
/// stream over HTTP/1.1, one per 100 or so streams over h2c) plus one per client connection; the bench holds the
/// origin's end of every upstream socket plus its client connections, on top of what it has open already. The
/// proxy's upstream sockets also need one local port each toward the one origin address.
struct ScaleResourceBudget: Sendable {
    /// Room for everything else a process keeps open: listeners, event loops' descriptors, logs, libraries.
    static let marginFiles = 256

    /// The soft open-file limit in force (each process's).
    var fileLimit: Int
    /// The hard limit: the most the soft limit could be raised to without privileges.
    var hardFileLimit: Int
    /// What the bench process has open already.
    var benchOpenFiles: Int
    /// Local ports the kernel hands out to outgoing connections (ip_local_port_range), when known.
    var localPorts: Int?

    /// The budget as of now.
    static func current() -> ScaleResourceBudget {
        let limits = FileLimit.current() ?? (soft: 1024, hard: 1024)
        return ScaleResourceBudget(
            fileLimit: limits.soft,
            hardFileLimit: limits.hard,
            benchOpenFiles: FileLimit.openNow() ?? 0,
            localPorts: localPortRange()
        )
    }

    /// Open files the busier of the two processes (proxy, bench) needs for `connections` client connections and
    /// `upstreamConnections` toward the origin.
    func filesNeeded(connections: Int, upstreamConnections: Int) -> Int {
        let proxy = upstreamConnections + connections + Self.marginFiles
        let bench = upstreamConnections + connections + benchOpenFiles + Self.marginFiles
        return max(proxy, bench)
    }

    /// Why the level cannot be tried here, or nil when it fits.
    func shortfall(connections: Int, upstreamConnections: Int) -> String? {
        let files = filesNeeded(connections: connections, upstreamConnections: upstreamConnections)
        if files > fileLimit {
            let limit =
                fileLimit < hardFileLimit
                ? "the limit here is \(fileLimit) (hard limit \(hardFileLimit))"
                : "the hard limit here is \(hardFileLimit)"
            return "not tried: needs ~\(files) open files, \(limit)"
        }
        if let localPorts, upstreamConnections > localPorts {
            return "not tried: needs \(upstreamConnections) local ports toward the origin, the ephemeral range here has "
                + "\(localPorts)"
        }
        return nil
    }

    /// How many ports `/proc/sys/net/ipv4/ip_local_port_range` spans; nil when unreadable.
    private static func localPortRange() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        else { return nil }
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard bounds.count == 2, bounds[1] >= bounds[0] else { return nil }
        return bounds[1] - bounds[0] + 1
    }
}
