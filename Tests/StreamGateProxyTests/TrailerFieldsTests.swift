import NIOHTTP1
import XCTest

@testable import StreamGateProxy

final class TrailerFieldsTests: XCTestCase {
    func testEndToEndFieldsPassAndForbiddenOnesAreDropped() {
        let trailers: HTTPHeaders = [
            "grpc-status": "0", "x-checksum": "abc", "content-length": "9", "transfer-encoding": "chunked",
            "connection": "x-hop", "x-hop": "1", "set-cookie": "a=b", "host": "evil", ":status": "200",
        ]
        let forwarded = TrailerFields.forwardable(trailers)
        XCTAssertEqual(forwarded?.map(\.name).sorted(), ["grpc-status", "x-checksum"])
    }

    func testNothingLeftIsNil() {
        XCTAssertNil(TrailerFields.forwardable(["content-length": "1", "keep-alive": "x"]))
        XCTAssertNil(TrailerFields.forwardable(HTTPHeaders()))
        XCTAssertNil(TrailerFields.forwardable(nil))
    }
}
