import Foundation
import XCTest

@_spi(Fuzzing) import StreamGateProxy

/// Every input of the committed fuzzing corpus (seeds, and each crash the fuzzer ever found) through its target:
/// the regression half of fuzzing, in the ordinary test run.
final class FuzzCorpusTests: XCTestCase {
    private static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    func testEveryTargetHasSeedsAndRunsThemAll() throws {
        for target in FuzzTarget.allCases {
            let folder = Self.corpus.appendingPathComponent(target.rawValue)
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            XCTAssertFalse(names.isEmpty, "no seeds for \(target.rawValue)")
            for name in names {
                let data = try Data(contentsOf: folder.appendingPathComponent(name))
                data.withUnsafeBytes { target.run($0) }
            }
        }
    }
}
