import NIOCore
import StreamGateConfig

/// The per-event-loop half of choosing a server for a new stream: the smooth weighted round robin state (as
/// nginx's: every pick adds each candidate's weight to its score and takes the highest, which interleaves the
/// servers in proportion to their weights) and the tie-break cursor of `least_streams`. Candidates are the
/// servers available now; when every one is out, all are candidates again (a guess beats a certain 502), and one
/// server may be left out (the one a connect just failed on). Used only on its loop.
struct UpstreamBalancer {
    private var scores: [String: [Int]] = [:]
    private var cursors: [String: Int] = [:]

    /// The server of `group` a new stream should use, or nil when `excluding` was the only one.
    mutating func choose(in group: UpstreamGroup, excluding: Int? = nil, now: NIODeadline = .now()) -> Int? {
        let count = group.servers.count
        if count == 1 {
            return excluding == 0 ? nil : 0
        }
        var candidates = (0..<count).filter { $0 != excluding && group.servers[$0].isAvailable(at: now) }
        if candidates.isEmpty {
            candidates = (0..<count).filter { $0 != excluding }
        }
        guard candidates.count > 1 else { return candidates.first }
        switch group.config.balance {
        case .roundRobin:
            return weightedRoundRobin(group, candidates)
        case .leastStreams:
            return leastStreams(group, candidates)
        }
    }

    private mutating func weightedRoundRobin(_ group: UpstreamGroup, _ candidates: [Int]) -> Int {
        var score = scores[group.name] ?? []
        if score.count != group.servers.count {
            score = Array(repeating: 0, count: group.servers.count)
        }
        var total = 0
        var best = candidates[0]
        for index in candidates {
            let weight = group.weight(of: index)
            score[index] += weight
            total += weight
            if score[index] > score[best] {
                best = index
            }
        }
        score[best] -= total
        scores[group.name] = score
        return best
    }

    /// Fewest streams in flight for the weight (compared as `streams_a * weight_b < streams_b * weight_a`); ties go
    /// round robin from a cursor, so a burst of new streams does not pile onto the first server.
    private mutating func leastStreams(_ group: UpstreamGroup, _ candidates: [Int]) -> Int {
        let start = cursors[group.name, default: 0]
        cursors[group.name] = start &+ 1
        var best = candidates[start % candidates.count]
        var bestStreams = group.servers[best].streamsInFlight
        for offset in 1..<candidates.count {
            let index = candidates[(start + offset) % candidates.count]
            let streams = group.servers[index].streamsInFlight
            if streams * group.weight(of: best) < bestStreams * group.weight(of: index) {
                best = index
                bestStreams = streams
            }
        }
        return best
    }
}
