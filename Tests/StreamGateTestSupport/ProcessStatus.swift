import Foundation

/// What Linux's /proc says about a child process and its sockets.
public enum ProcessStatus {
    /// VmRSS of `pid`, in bytes.
    public static func residentBytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        let fields = line?.split(whereSeparator: \.isWhitespace) ?? []
        guard fields.count >= 2, let kilobytes = Int(fields[1]) else {
            throw TestSupportError("no VmRSS in /proc/\(pid)/status")
        }
        return kilobytes * 1024
    }

    /// How many file descriptors `pid` has open (entries of /proc/<pid>/fd).
    public static func openDescriptors(of pid: Int32) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    /// The inode of the socket listening on 127.0.0.1:`port` (from /proc/net/tcp), nil when none listens: the
    /// same inode before and after an event means the very same socket kept listening.
    public static func listeningSocketInode(port: Int) -> String? {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return nil }
        let local = String(format: "0100007F:%04X", port)
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            guard fields.count > 9, fields[1] == local, fields[3] == "0A" else { continue }
            return String(fields[9])
        }
        return nil
    }
}
