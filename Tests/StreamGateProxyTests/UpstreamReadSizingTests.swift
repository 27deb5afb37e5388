import NIOCore
import XCTest

@testable import StreamGateProxy

/// `UpstreamReadSizing` against NIO's `AdaptiveRecvByteBufferAllocator` on the same reads: the same buffer size
/// after every read and the same answer to "may the next read be bigger", while it stays small enough to need no box.
final class UpstreamReadSizingTests: XCTestCase {
    func testEveryReadSizesTheNextBufferAsNIODoes() {
        var random = SeededGenerator(seed: 0x12EAD)
        var grew = 0
        var shrank = 0
        for _ in 0..<200 {
            var ours = UpstreamReadSizing(minimum: 64, initial: 256, maximum: 65536)
            var nios = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65536)
            var size = ours.nextBufferSize()!
            for step in 0..<200 {
                // Reads that fill the buffer, fill half of it or less, or fall between, as a busy or idle upstream's.
                let read: Int
                switch Int.random(in: 0..<4, using: &random) {
                case 0: read = size
                case 1: read = Int.random(in: 0...(size / 2), using: &random)
                case 2: read = Int.random(in: (size / 2)...size, using: &random)
                default: read = Int.random(in: 0...2 * size, using: &random)
                }
                let mayGrow = ours.record(actualReadBytes: read)
                XCTAssertEqual(mayGrow, nios.record(actualReadBytes: read), "step \(step), read \(read)")
                XCTAssertEqual(ours.nextBufferSize(), nios.nextBufferSize(), "step \(step), read \(read)")
                let next = ours.nextBufferSize()!
                grew += next > size ? 1 : 0
                shrank += next < size ? 1 : 0
                size = next
            }
        }
        XCTAssertGreaterThan(grew, 1000)
        XCTAssertGreaterThan(shrank, 1000)
    }

    func testSizesStayWithinTheBoundsAndBuffersHaveTheNextSize() {
        var sizing = UpstreamReadSizing(minimum: 64, initial: 256, maximum: 65536)
        for _ in 0..<40 { _ = sizing.record(actualReadBytes: 1 << 20) }
        XCTAssertEqual(sizing.nextBufferSize(), 65536)
        XCTAssertFalse(sizing.record(actualReadBytes: 1 << 20), "grew past the maximum")
        for _ in 0..<40 { _ = sizing.record(actualReadBytes: 0) }
        XCTAssertEqual(sizing.nextBufferSize(), 64)
        XCTAssertEqual(sizing.buffer(allocator: ByteBufferAllocator()).capacity, 64)
    }

    /// The reason it exists: it fits an existential's inline buffer, so a channel holds it without a heap box.
    func testItFitsAnExistentialWithoutABox() {
        XCTAssertLessThanOrEqual(MemoryLayout<UpstreamReadSizing>.size, 3 * MemoryLayout<Int>.size)
        XCTAssertGreaterThan(MemoryLayout<AdaptiveRecvByteBufferAllocator>.size, 3 * MemoryLayout<Int>.size)
    }
}
