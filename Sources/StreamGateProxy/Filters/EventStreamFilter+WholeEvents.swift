import NIOCore

/// Forwarding whole events only, for streams that may continue on another upstream (`sse.resume`): the bytes after
/// the last event boundary of a chunk are held until their event is complete, so when the upstream fails the client
/// stands at a boundary and the next upstream's bytes cannot finish another server's event. After a failover the
/// new upstream's replay of events the client already has is dropped (`ReplayedEvents`).
extension EventStreamFilter {
    /// What whole-event forwarding keeps between chunks. Owned by one filter; a reference, so that a stream on a
    /// route without `sse.resume` carries one nil pointer instead of these fields.
    final class WholeEventState {
        /// The longest event held back whole (`sse.resume_max_event`).
        let maxEventBytes: Int
        /// The start of an event still incomplete, not yet sent to the client.
        var held: ByteBuffer?
        /// An event over `maxEventBytes` is passing in pieces: the client is inside it, and a failure now cannot
        /// be hidden.
        var passingLongEvent = false
        /// Events forwarded on earlier upstreams of this stream.
        var eventsBefore = 0
        /// Events the current upstream replayed that the client had already, dropped.
        var replayedEventsDropped = 0
        /// The last event ID the client holds from earlier upstreams.
        var carriedEventID: String?
        /// Set after a failover until the new upstream sends an event the client does not have yet.
        var replayed: ReplayedEvents?

        init(maxEventBytes: Int) {
            self.maxEventBytes = maxEventBytes
        }
    }

    /// The client stands at an event boundary: nothing of an unfinished event has reached it.
    var clientIsAtEventBoundary: Bool {
        guard let wholeEvents else { return scanner.isAtEventBoundary }
        return !wholeEvents.passingLongEvent
    }

    /// The last event ID as the client holds it (the WHATWG "last event ID string"): what a resumed request sends
    /// as `Last-Event-ID`. Nil before any event with an id reached the client.
    var relayedEventID: String? {
        guard let wholeEvents else { return scanner.boundaryEventID }
        if wholeEvents.replayed != nil {
            return wholeEvents.carriedEventID
        }
        return scanner.boundaryEventID ?? wholeEvents.carriedEventID
    }

    /// A failover can be hidden from the client: it forwards whole events and is not inside a long one.
    var canFailOver: Bool {
        guard let wholeEvents else { return false }
        return !wholeEvents.passingLongEvent
    }

    /// The upstream is gone: its unfinished event is dropped (the next upstream sends it again whole) and the
    /// bytes of the next upstream are scanned as a new stream, whose replay of events up to the client's last id
    /// is dropped. Returns that id, or nil when the client has none (a resumed request could not say where to
    /// start).
    mutating func beginFailover() -> String? {
        guard let state = wholeEvents else { return nil }
        let relayed = relayedEventID
        state.eventsBefore = eventCount
        state.replayedEventsDropped = 0
        state.held = nil
        state.passingLongEvent = false
        state.carriedEventID = relayed
        state.replayed = relayed.map(ReplayedEvents.init(lastRelayedID:))
        wholeEvents = state
        scanner = EventStreamScanner()
        // The client already has bytes of this stream: a BOM from the next upstream would not lead it.
        wroteAhead = true
        return relayed
    }

    /// Scans one upstream chunk and returns what the client gets now: every event completed by it (with the held
    /// start of the first), never the start of an event still open, which is held.
    mutating func forwardWholeEvents(_ chunk: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        if wholeEvents?.replayed != nil {
            return forwardDroppingReplayed(chunk, allocator: allocator)
        }
        let (leadingBOM, boundaryEnd) = scanner.scan(chunk, stoppingAtBoundary: false)
        let adjustment = wroteAhead ? leadingBOM : .none
        guard let boundaryEnd else {
            return hold(adjustment == .none ? chunk : adjustment.applied(to: chunk, allocator: allocator), allocator: allocator)
        }
        let completedLength = boundaryEnd
        var completed = chunk.getSlice(at: chunk.readerIndex, length: completedLength) ?? chunk
        if adjustment != .none {
            completed = adjustment.applied(to: completed, allocator: allocator)
        }
        let forwarded = releaseHeld(before: completed, allocator: allocator)
        let tailLength = chunk.readableBytes - completedLength
        guard tailLength > 0, let tail = chunk.getSlice(at: chunk.readerIndex + completedLength, length: tailLength)
        else {
            return forwarded
        }
        let passedNow = hold(tail, allocator: allocator)
        guard passedNow.readableBytes > 0 else { return forwarded }
        return Self.joined(forwarded, passedNow, allocator: allocator)
    }

    /// Holds `piece` (the continuation of an unfinished event) and returns what must pass now: nothing while the
    /// event fits `maxEventBytes`; the held bytes and `piece` once it does not (the client is then inside it), and
    /// every piece after that until the event ends.
    mutating func hold(_ piece: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let state = wholeEvents else { return piece }
        if state.passingLongEvent {
            return piece
        }
        let heldBytes = state.held?.readableBytes ?? 0
        if heldBytes + piece.readableBytes > state.maxEventBytes {
            let passing = state.held.map { Self.joined($0, piece, allocator: allocator) } ?? piece
            state.held = nil
            state.passingLongEvent = true
            wholeEvents = state
            return passing
        }
        if let held = state.held {
            state.held = Self.joined(held, piece, allocator: allocator)
        } else if piece.readableBytes > 0 {
            state.held = piece
        }
        wholeEvents = state
        return ByteBuffer()
    }

    /// `completed` (bytes that end at an event boundary) behind the held start of their first event, if any.
    mutating func releaseHeld(before completed: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let state = wholeEvents else { return completed }
        state.passingLongEvent = false
        let held = state.held
        state.held = nil
        wholeEvents = state
        guard let held else { return completed }
        return Self.joined(held, completed, allocator: allocator)
    }

    /// After a failover: block by block, drops the events the client already has until the first one it does not
    /// have passes; from there on chunks take the usual path.
    private mutating func forwardDroppingReplayed(_ chunk: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var rest = chunk
        var forwarded = ByteBuffer()
        while rest.readableBytes > 0, let replayed = wholeEvents?.replayed {
            let eventsBefore = scanner.eventCount
            let (leadingBOM, boundaryEnd) = scanner.scan(rest, stoppingAtBoundary: true)
            let adjustment = wroteAhead ? leadingBOM : .none
            guard let boundaryEnd else {
                let piece = adjustment == .none ? rest : adjustment.applied(to: rest, allocator: allocator)
                return Self.joined(forwarded, hold(piece, allocator: allocator), allocator: allocator)
            }
            var block = rest.getSlice(at: rest.readerIndex, length: boundaryEnd) ?? rest
            rest.moveReaderIndex(forwardBy: boundaryEnd)
            if adjustment != .none {
                block = adjustment.applied(to: block, allocator: allocator)
            }
            block = releaseHeld(before: block, allocator: allocator)
            if let id = scanner.boundaryEventID {
                if replayed.clientHas(id) {
                    wholeEvents?.replayedEventsDropped += scanner.eventCount - eventsBefore
                    continue
                }
                // The first event the client does not have: the replay is over.
                wholeEvents?.replayed = nil
            }
            forwarded = Self.joined(forwarded, block, allocator: allocator)
        }
        guard rest.readableBytes > 0 else { return forwarded }
        return Self.joined(forwarded, forwardWholeEvents(rest, allocator: allocator), allocator: allocator)
    }

    /// `first` then `second`: one of them as is when the other is empty, else a copy of both.
    static func joined(_ first: ByteBuffer, _ second: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        if first.readableBytes == 0 { return second }
        if second.readableBytes == 0 { return first }
        var joined = allocator.buffer(capacity: first.readableBytes + second.readableBytes)
        joined.writeImmutableBuffer(first)
        joined.writeImmutableBuffer(second)
        return joined
    }
}
