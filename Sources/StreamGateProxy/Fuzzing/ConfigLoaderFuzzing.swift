import StreamGateConfig

/// Fuzzing of the config loader: any text loads or fails with errors that each name the file; it never traps.
enum ConfigLoaderFuzzing {
    static func run(_ bytes: [UInt8]) {
        let yaml = String(decoding: bytes, as: UTF8.self)
        do {
            _ = try ConfigLoader.load(yaml: yaml, sourcePath: "fuzz.yaml")
        } catch {
            for problem in error.errors {
                precondition(problem.description.hasPrefix("fuzz.yaml"), "an error without the file: \(problem)")
            }
        }
    }
}
