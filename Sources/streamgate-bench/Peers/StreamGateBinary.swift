import Foundation
import Logging

/// Finds the release `streamgate` binary next to this tool (`.build/release/`), building it with
/// `swift build -c release --product streamgate` when it is missing.
enum StreamGateBinary {
    static func locate(explicitPath: String?, logger: Logger) throws -> String {
        if let explicitPath {
            return explicitPath
        }
        let ownFolder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        let sibling = ownFolder.appendingPathComponent("streamgate").path
        if FileManager.default.isExecutableFile(atPath: sibling) {
            return sibling
        }
        guard let packageRoot = packageRoot(from: ownFolder) else {
            throw PeerStartFailure(reason: "no streamgate binary at \(sibling) and no Package.swift above it")
        }
        logger.notice("building streamgate (release) in \(packageRoot.path)")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        build.arguments = ["swift", "build", "-c", "release", "--product", "streamgate"]
        build.currentDirectoryURL = packageRoot
        try build.run()
        build.waitUntilExit()
        guard build.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: sibling) else {
            throw PeerStartFailure(reason: "swift build --product streamgate failed (exit \(build.terminationStatus))")
        }
        return sibling
    }

    private static func packageRoot(from folder: URL) -> URL? {
        var candidate = folder
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Package.swift").path) {
                return candidate
            }
            candidate = candidate.deletingLastPathComponent()
        }
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return FileManager.default.fileExists(atPath: current.appendingPathComponent("Package.swift").path)
            ? current : nil
    }
}
