import XCTest

@testable import StreamGateAdmin

/// The bearer-token check: exact bytes, any case of the scheme, and no prefix, suffix or length trick passes.
final class AdminTokenTests: XCTestCase {
    func testOnlyTheExactTokenPasses() {
        let token = "s3cret-token"
        XCTAssertTrue(AdminState.header("Bearer s3cret-token", carries: token))
        XCTAssertTrue(AdminState.header("bearer s3cret-token", carries: token))
        XCTAssertTrue(AdminState.header("BEARER s3cret-token", carries: token))
        for wrong in [
            nil, "", "Bearer", "Bearer ", "Basic s3cret-token", "Bearer s3cret-toke", "Bearer s3cret-tokenX",
            "Bearer S3cret-token", "Bearers3cret-token", "Bearer  s3cret-token",
            "Bearer s3cret-token" + String(repeating: "\u{0}", count: 256),
            "Bearer " + String(repeating: "x", count: 268),
        ] {
            XCTAssertFalse(AdminState.header(wrong, carries: token), "\(wrong.debugDescription) passed")
        }
    }
}
