import Foundation
import StreamGateTLS

/// The run's temporary folder: the self-signed certificate every TLS peer serves, and each peer's generated
/// config and log. Removed when the run ends unless `keep` is set.
struct Workspace: Sendable {
    let folder: URL
    let certificatePath: String
    let privateKeyPath: String

    static func create() throws -> Workspace {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("streamgate-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificatePath = folder.appendingPathComponent("localhost.crt").path
        let privateKeyPath = folder.appendingPathComponent("localhost.key").path
        try SelfSignedCertificate.write(
            commonName: "localhost",
            dnsNames: ["localhost"],
            ipAddresses: ["127.0.0.1"],
            certificatePath: certificatePath,
            privateKeyPath: privateKeyPath
        )
        return Workspace(folder: folder, certificatePath: certificatePath, privateKeyPath: privateKeyPath)
    }

    /// A fresh subfolder for one peer process (its config, log, pid file), named `HHMMSS-peer-xxxx` (UTC start).
    func peerFolder(_ name: String) throws -> URL {
        let seconds = Int(Date().timeIntervalSince1970) % 86_400
        let clock = String(format: "%02d%02d%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
        let folder = self.folder.appendingPathComponent("\(clock)-\(name)-\(UUID().uuidString.prefix(4))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Copies every peer's log and generated config into `destination` (one subfolder per peer process), so they
    /// outlive the workspace; earlier copies there are replaced.
    func collectLogs(into destination: String) {
        let target = URL(fileURLWithPath: destination)
        try? FileManager.default.removeItem(at: target)
        let peerFolders =
            (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        for peerFolder in peerFolders where peerFolder.hasDirectoryPath {
            let files =
                (try? FileManager.default.contentsOfDirectory(at: peerFolder, includingPropertiesForKeys: nil)) ?? []
            // `callgrind` files: the instruction scenario's per-function counts, for callgrind_annotate.
            let kept = files.filter { ["log", "yaml", "conf", "cfg", "callgrind"].contains($0.pathExtension) }
            guard !kept.isEmpty else { continue }
            let copy = target.appendingPathComponent(peerFolder.lastPathComponent)
            try? FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
            for file in kept {
                try? FileManager.default.copyItem(at: file, to: copy.appendingPathComponent(file.lastPathComponent))
            }
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: folder)
    }
}
