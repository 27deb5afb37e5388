import NIOCore

/// One value per event loop of a group, made on its loop when first asked for there and reached only from it
/// (no lock, no blocking wait). `visitAll` runs a body on every loop that has made its value.
final class PerEventLoop<Value>: Sendable {
    private let boxes: [ObjectIdentifier: NIOLoopBoundBox<Value?>]
    private let make: @Sendable (any EventLoop) -> Value

    init(group: any EventLoopGroup, make: @escaping @Sendable (any EventLoop) -> Value) {
        var boxes: [ObjectIdentifier: NIOLoopBoundBox<Value?>] = [:]
        for loop in group.makeIterator() {
            boxes[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeEmptyBox(valueType: Value.self, eventLoop: loop)
        }
        self.boxes = boxes
        self.make = make
    }

    /// The value of `loop`; call on `loop` only.
    func value(on loop: any EventLoop) -> Value {
        guard let box = boxes[ObjectIdentifier(loop)] else {
            preconditionFailure("event loop outside the proxy's group")
        }
        if let value = box.value {
            return value
        }
        let value = make(loop)
        box.value = value
        return value
    }

    /// Runs `body` on every loop with the value made there (loops that never made one are skipped) and returns
    /// what each returned.
    func visitAll<Result: Sendable>(_ body: @escaping @Sendable (Value) -> Result) async -> [Result] {
        var results: [Result] = []
        for box in boxes.values {
            let result: Result?? = try? await box.eventLoop.submit { box.value.map(body) }.get()
            if let result, let result {
                results.append(result)
            }
        }
        return results
    }
}
