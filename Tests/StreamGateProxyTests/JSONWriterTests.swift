import Foundation
import XCTest

@testable import StreamGateProxy

/// `JSONWriter` against Foundation's parser: nesting, separators, nulls, and every byte that needs escaping.
final class JSONWriterTests: XCTestCase {
    func testNestedValuesParseBackUnchanged() throws {
        let nasty = "quote \" backslash \\ newline \n cr \r tab \t nul \u{0} bell \u{7} unit \u{1F} é 🚀 </script>"
        var json = JSONWriter()
        json.beginObject()
        json.key("text"); json.string(nasty)
        json.key("missing"); json.string(nil as String?)
        json.key("count"); json.int(-42)
        json.key("none"); json.int(nil as Int?)
        json.key("flag"); json.bool(true)
        json.key("dynamic \"key\"\n"); json.string("v")
        json.key("list")
        json.beginArray()
        json.int(1)
        json.beginObject()
        json.key("inner"); json.bool(false)
        json.endObject()
        json.beginArray()
        json.endArray()
        json.string("end")
        json.endArray()
        json.key("empty")
        json.beginObject()
        json.endObject()
        json.endObject()

        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any], json.text)
        XCTAssertEqual(object["text"] as? String, nasty)
        XCTAssertTrue(object["missing"] is NSNull)
        XCTAssertEqual(object["count"] as? Int, -42)
        XCTAssertTrue(object["none"] is NSNull)
        XCTAssertEqual(object["flag"] as? Bool, true)
        XCTAssertEqual(object["dynamic \"key\"\n"] as? String, "v")
        let list = try XCTUnwrap(object["list"] as? [Any])
        XCTAssertEqual(list.count, 4)
        XCTAssertEqual((list[1] as? [String: Any])?["inner"] as? Bool, false)
        XCTAssertEqual((list[2] as? [Any])?.count, 0)
        XCTAssertEqual(list[3] as? String, "end")
        XCTAssertEqual((object["empty"] as? [String: Any])?.count, 0)
        XCTAssertFalse(json.text.contains("\n"), "a log line must stay one line")
    }
}
