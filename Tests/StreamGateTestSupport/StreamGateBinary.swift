import Foundation

/// Finds the `streamgate` executable SwiftPM built next to the test bundle.
public enum StreamGateBinary {
    /// The first executable `streamgate` among: `$STREAMGATE_BINARY`, the directories of the test runner and of
    /// `Bundle.main` (and their parents), then `.build/debug` and `.build/release` of the package and of the
    /// current directory. Throws naming every place it looked.
    public static func url() throws -> URL {
        var looked: [String] = []
        for candidate in candidates() {
            looked.append(candidate.path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
               !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate.path)
            {
                return candidate
            }
        }
        throw TestSupportError(
            "streamgate binary not found; build it with `swift build --build-tests`. Looked in:\n"
                + looked.joined(separator: "\n")
        )
    }

    private static func candidates() -> [URL] {
        var result: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["STREAMGATE_BINARY"], !explicit.isEmpty {
            result.append(URL(fileURLWithPath: explicit))
        }
        var directories: [URL] = []
        if let runner = CommandLine.arguments.first {
            directories.append(URL(fileURLWithPath: runner).deletingLastPathComponent())
        }
        directories.append(Bundle.main.bundleURL)
        directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
        // On macOS the runner sits inside `X.xctest/Contents/MacOS`: walk up to the build directory.
        var ancestor = Bundle.main.bundleURL
        for _ in 0..<4 {
            ancestor = ancestor.deletingLastPathComponent()
            directories.append(ancestor)
        }
        // This file is Tests/StreamGateTestSupport/StreamGateBinary.swift: three levels up is the package root.
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let workingDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for root in [packageRoot, workingDirectory] {
            directories.append(root.appendingPathComponent(".build/debug"))
            directories.append(root.appendingPathComponent(".build/release"))
        }
        result += directories.map { $0.appendingPathComponent("streamgate") }
        return result
    }
}
