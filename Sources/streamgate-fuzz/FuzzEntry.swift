import Foundation

@_spi(Fuzzing) import StreamGateProxy

/// The fuzz target named by `STREAMGATE_FUZZ_TARGET` (one of `FuzzTarget`'s raw values).
private let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["STREAMGATE_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let known = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("set STREAMGATE_FUZZ_TARGET to one of: \(known)\n".utf8))
        exit(2)
    }
    return target
}()

#if FUZZING
/// libFuzzer's driver (linked by `-sanitize=fuzzer`): parses its flags and calls `fuzzOneInput` per input.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// One input, any bytes (libFuzzer's own `main` calls it by this name, our driver call below by reference).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The entry point under libFuzzer: its driver, with the target chosen before it starts.
@main
struct FuzzMain {
    static func main() {
        _ = selectedTarget
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
    }
}
#else
/// Without libFuzzer: runs the files (or every file of the folders) given as arguments through the target, as a
/// crash found by the fuzzer is replayed.
@main
struct FuzzReplay {
    static func main() {
        let paths = CommandLine.arguments.dropFirst()
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("no such file: \(path)\n".utf8))
                exit(2)
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            data.withUnsafeBytes { selectedTarget.run($0) }
        }
        print("\(selectedTarget.rawValue): \(files.count) inputs replayed")
    }
}
#endif
