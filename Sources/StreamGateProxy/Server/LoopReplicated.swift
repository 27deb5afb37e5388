import NIOCore
import NIOConcurrencyHelpers

/// A value each event loop of a group reads without a lock, from its own copy, and that is replaced on all loops
/// together (a config reload swapping the route table). The latest value is kept too, for readers off the loops.
final class LoopReplicated<Value: Sendable>: Sendable {
    private let boxes: [ObjectIdentifier: NIOLoopBoundBox<Value>]
    private let latest: NIOLockedValueBox<Value>

    init(_ value: Value, group: any EventLoopGroup) {
        var boxes: [ObjectIdentifier: NIOLoopBoundBox<Value>] = [:]
        for loop in group.makeIterator() {
            boxes[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(value, eventLoop: loop)
        }
        self.boxes = boxes
        self.latest = NIOLockedValueBox(value)
    }

    /// The value `loop` holds now; call on `loop` only.
    func current(on loop: any EventLoop) -> Value {
        guard let box = boxes[ObjectIdentifier(loop)] else {
            preconditionFailure("event loop outside the proxy's group")
        }
        return box.value
    }

    /// The value last given to `replace` (or the first one), from any thread.
    var latestValue: Value {
        latest.withLockedValue { $0 }
    }

    /// Hands `value` to every loop; returns once each loop holds it. A loop sees the old value or the new one
    /// whole, never a mixture; work already running on a loop keeps what it read.
    func replace(with value: Value) async {
        latest.withLockedValue { $0 = value }
        for box in boxes.values {
            try? await box.eventLoop.submit { box.value = value }.get()
        }
    }
}
