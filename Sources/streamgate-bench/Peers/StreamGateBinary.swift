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

    /// A copy of StreamGate that valgrind 3.19 (Debian 12's) can run, for the instruction count: the Swift runtime
    /// linked in statically (valgrind cannot map the toolchain's lld-linked shared runtime libraries) and no debug
    /// sections (it cannot read them either). Built once per run into `.build-static` (incremental) and copied
    /// into the workspace without debug info.
    static func forCallgrind(workspace: Workspace, logger: Logger) throws -> String {
        let copy = workspace.folder.appendingPathComponent("streamgate-callgrind").path
        if FileManager.default.isExecutableFile(atPath: copy) {
            return copy
        }
        let ownFolder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        guard let packageRoot = packageRoot(from: ownFolder) else {
            throw PeerStartFailure(reason: "no Package.swift above \(ownFolder.path) to build the counted binary in")
        }
        logger.notice("building streamgate (release, static Swift runtime) into .build-static for callgrind")
        let scratch = packageRoot.appendingPathComponent(".build-static")
        try run(
            ["swift", "build", "-c", "release", "--product", "streamgate", "--static-swift-stdlib", "--scratch-path", scratch.path],
            in: packageRoot
        )
        try run(["objcopy", "--strip-debug", scratch.appendingPathComponent("release/streamgate").path, copy], in: packageRoot)
        return copy
    }

    private static func run(_ arguments: [String], in folder: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PeerStartFailure(reason: "\(arguments.prefix(3).joined(separator: " ")) failed (exit \(process.terminationStatus))")
        }
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
