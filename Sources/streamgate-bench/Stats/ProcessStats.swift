import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time and resident memory of a process tree (a proxy and its worker children), read from /proc
/// (proc(5): `/proc/PID/stat` fields 14-17, `VmRSS` of `/proc/PID/status`). Linux only.
struct ProcessSample: Sendable {
    /// utime + stime of every process in the tree, plus cutime + cstime (workers that already exited).
    var cpuSeconds: Double
    /// VmRSS summed over the tree.
    var rssKiB: Int
    /// How many processes the tree had.
    var processes: Int
}

enum ProcessStats {
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Samples `pid` and all its descendants; nil when `pid` is gone.
    static func sample(rootPID: Int32) -> ProcessSample? {
        guard let root = readStat(pid: rootPID) else { return nil }
        var tree = [rootPID]
        var ticks = root.ownTicks + root.childTicks
        var frontier = [rootPID]
        let all = allStats()
        while let parent = frontier.popLast() {
            for (pid, stat) in all where stat.parent == parent && !tree.contains(pid) {
                tree.append(pid)
                frontier.append(pid)
                ticks += stat.ownTicks + stat.childTicks
            }
        }
        let rss = tree.compactMap(residentKiB(pid:)).reduce(0, +)
        return ProcessSample(cpuSeconds: Double(ticks) / ticksPerSecond, rssKiB: rss, processes: tree.count)
    }

    /// The PIDs of `pid`'s direct children.
    static func children(of pid: Int32) -> [Int32] {
        allStats().filter { $0.value.parent == pid }.map(\.key)
    }

    private struct Stat {
        var parent: Int32
        var ownTicks: UInt64
        var childTicks: UInt64
    }

    private static func allStats() -> [Int32: Stat] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [:] }
        var result: [Int32: Stat] = [:]
        for name in names {
            guard let pid = Int32(name), let stat = readStat(pid: pid) else { continue }
            result[pid] = stat
        }
        return result
    }

    private static func readStat(pid: Int32) -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": field 3 (state) is index 0, so field N is index N - 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let parent = Int32(fields[1]),
            let utime = UInt64(fields[11]), let stime = UInt64(fields[12]),
            let cutime = UInt64(fields[13]), let cstime = UInt64(fields[14])
        else { return nil }
        return Stat(parent: parent, ownTicks: utime + stime, childTicks: cutime + cstime)
    }

    private static func residentKiB(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}
