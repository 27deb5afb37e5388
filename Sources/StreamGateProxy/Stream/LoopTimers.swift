import NIOCore

/// Where an owner's deadline sits in its `LoopTimers`: kept by the timers, stored in the owner so that moving or
/// cancelling a deadline finds it without a search.
struct LoopTimerSlot {
    /// The entry's index in the heap; `unarmed` when the owner has no deadline, `firing` between the moment its
    /// deadline was taken off the heap and its `loopTimerFired()`.
    fileprivate var index: Int32

    fileprivate static let unarmedIndex: Int32 = -1
    fileprivate static let firingIndex: Int32 = -2

    static let unarmed = LoopTimerSlot(index: unarmedIndex)

    fileprivate init(index: Int32) {
        self.index = index
    }

    var isArmed: Bool { index >= 0 }
}

/// A stream or tunnel with one deadline at a time on its event loop's `LoopTimers`.
protocol LoopTimerOwner: AnyObject {
    /// Read and written only by `LoopTimers`; starts as `.unarmed`.
    var timerSlot: LoopTimerSlot { get set }
    /// The deadline came. Nothing is armed for the owner any more; it may arm again from here.
    func loopTimerFired()
}

/// The time of one event loop's streams and tunnels: the clock they read and their deadlines, a binary min-heap of (deadline, owner) behind a
/// single NIO scheduled callback, armed for the earliest. Each owner keeps its entry's index (`LoopTimerSlot`),
/// so arming, moving a deadline earlier and cancelling are O(log n) and allocate nothing once the heap has grown;
/// one NIO callback per stream would cost a 64-byte task in NIO's queue per stream and a linear search of that queue
/// at every cancel. Owners are held strongly while armed, as NIO holds a callback's handler, so an owner must
/// cancel when it ends. Used on its loop only.
final class LoopTimers {
    private struct Entry {
        var deadline: NIODeadline
        var owner: any LoopTimerOwner
    }

    let eventLoop: any EventLoop
    /// The clock the owners read their deadlines from (a test's own under `EmbeddedEventLoop`).
    let clock: StreamClock
    private var heap: [Entry] = []
    /// The NIO callback and the deadline it is armed for (the heap's earliest when it was armed, never later).
    private var callback: NIOScheduledCallback?
    private var callbackDeadline: NIODeadline?
    /// Counts NIO callbacks armed; a callback that comes with an older number was cancelled after NIO had already
    /// taken it to run (in the same tick) and is ignored.
    private var callbackGeneration: UInt64 = 0
    /// Owners whose deadlines came in the current callback, kept between callbacks for its capacity.
    private var dueBuffer: [any LoopTimerOwner] = []

    init(eventLoop: any EventLoop, clock: StreamClock = .system) {
        self.eventLoop = eventLoop
        self.clock = clock
    }

    /// How many owners have a deadline armed.
    var count: Int { heap.count }

    /// The deadline armed for `owner`, if any.
    func deadline(of owner: some LoopTimerOwner) -> NIODeadline? {
        owner.timerSlot.isArmed ? heap[Int(owner.timerSlot.index)].deadline : nil
    }

    /// Arms `owner` for `deadline` unless it is armed for that or earlier already (a later deadline waits for the
    /// owner's `loopTimerFired()`, which then asks again). Throws, leaving the owner as it was, when the loop no
    /// longer takes scheduled callbacks (it is shutting down).
    func arm(_ owner: some LoopTimerOwner, at deadline: NIODeadline) throws {
        let slot = owner.timerSlot
        if slot.isArmed {
            let index = Int(slot.index)
            let current = heap[index].deadline
            guard deadline < current else { return }
            try scheduleCallback(for: deadline)
            heap[index].deadline = deadline
            siftUp(from: index)
            return
        }
        try scheduleCallback(for: deadline)
        heap.append(Entry(deadline: deadline, owner: owner))
        owner.timerSlot = LoopTimerSlot(index: Int32(heap.count - 1))
        siftUp(from: heap.count - 1)
    }

    /// Takes `owner`'s deadline off; nothing happens when it has none. An owner whose deadline came in this
    /// callback but who has not been told yet is not told.
    func cancel(_ owner: some LoopTimerOwner) {
        let slot = owner.timerSlot
        owner.timerSlot = .unarmed
        guard slot.isArmed else { return }
        remove(at: Int(slot.index))
        // The NIO callback stays armed: when it comes with nothing due it finds the next deadline and re-arms.
    }

    // MARK: The NIO callback

    /// Makes sure the NIO callback comes no later than `deadline`.
    private func scheduleCallback(for deadline: NIODeadline) throws {
        if let callbackDeadline, callbackDeadline <= deadline { return }
        let isolated = eventLoop.assumeIsolated()
        let wakeup = Wakeup(timers: self, generation: callbackGeneration &+ 1)
        let next = try isolated.scheduleCallback(at: deadline, handler: wakeup)
        if let callback {
            isolated.cancelScheduledCallback(callback)
        }
        callbackGeneration = wakeup.generation
        callback = next
        callbackDeadline = deadline
    }

    private func callbackCame(armedFor limit: NIODeadline) {
        callback = nil
        callbackDeadline = nil
        var due = dueBuffer
        dueBuffer = []
        while let first = heap.first, first.deadline <= limit {
            first.owner.timerSlot = LoopTimerSlot(index: LoopTimerSlot.firingIndex)
            remove(at: 0)
            due.append(first.owner)
        }
        for owner in due where owner.timerSlot.index == LoopTimerSlot.firingIndex {
            owner.timerSlot = .unarmed
            owner.loopTimerFired()
        }
        due.removeAll(keepingCapacity: true)
        dueBuffer = due
        if let first = heap.first {
            // A loop that is shutting down takes no more callbacks; its streams end with it.
            try? scheduleCallback(for: first.deadline)
        }
    }

    // MARK: Heap

    /// Removes the entry at `index` (its owner's slot is the caller's business) and restores the heap.
    private func remove(at index: Int) {
        let last = heap.count - 1
        if index != last {
            heap.swapAt(index, last)
            heap[index].owner.timerSlot = LoopTimerSlot(index: Int32(index))
        }
        heap.removeLast()
        guard index < heap.count else { return }
        if index > 0, heap[index].deadline < heap[(index - 1) / 2].deadline {
            siftUp(from: index)
        } else {
            siftDown(from: index)
        }
    }

    private func siftUp(from start: Int) {
        var index = start
        while index > 0 {
            let parent = (index - 1) / 2
            guard heap[index].deadline < heap[parent].deadline else { break }
            swapEntries(index, parent)
            index = parent
        }
    }

    private func siftDown(from start: Int) {
        var index = start
        let count = heap.count
        while true {
            let left = 2 * index + 1
            guard left < count else { return }
            let right = left + 1
            let child = right < count && heap[right].deadline < heap[left].deadline ? right : left
            guard heap[child].deadline < heap[index].deadline else { return }
            swapEntries(index, child)
            index = child
        }
    }

    private func swapEntries(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        heap[a].owner.timerSlot = LoopTimerSlot(index: Int32(a))
        heap[b].owner.timerSlot = LoopTimerSlot(index: Int32(b))
    }
}

extension LoopTimers {
    /// The NIO callback's handler: which `LoopTimers` it wakes and for which arming (stored inline in NIO's task,
    /// no allocation).
    private struct Wakeup: NIOScheduledCallbackHandler {
        let timers: LoopTimers
        let generation: UInt64

        func handleScheduledCallback(eventLoop: some EventLoop) {
            guard generation == timers.callbackGeneration, let limit = timers.callbackDeadline else { return }
            timers.callbackCame(armedFor: limit)
        }

        /// The loop cancelled the current callback (it is shutting down): nothing is armed, so the next `arm`
        /// schedules again, and throws, instead of trusting a callback that will never come.
        func didCancelScheduledCallback(eventLoop: some EventLoop) {
            guard generation == timers.callbackGeneration else { return }
            timers.callback = nil
            timers.callbackDeadline = nil
        }
    }
}
