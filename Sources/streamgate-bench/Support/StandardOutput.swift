import Foundation

/// Writes the report table to standard output (progress goes to the logger, on standard error).
enum StandardOutput {
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
