/// How big each scenario is: the full run (medians of 3, under 15 minutes) or `--quick` (1 repetition, under 2).
struct ScenarioSizes: Sendable, Codable {
    var repetitions: Int
    var fanOutConnections: Int
    var fanOutStreamsPerConnection: Int
    var fanOutEventsPerSecond: Double
    var fanOutSeconds: Int
    var floodConnections: Int
    var floodStreamsPerConnection: Int
    var floodSeconds: Int
    var idleConnections: Int
    var idleStreamsPerConnection: Int
    var idleSeconds: Int
    /// How long after the clients leave the origin's open connections are counted.
    var afterCloseSeconds: Int
    var webSocketConnections: Int
    var webSocketMessageBytes: Int
    var webSocketSeconds: Int
    /// Stream counts the scale search tries, smallest first; multiples of `scaleStreamsPerConnection`.
    var scaleLevels: [Int]
    var scaleStreamsPerConnection: Int
    /// StreamGate's SSE `heartbeat_interval` in the scale scenario, in milliseconds.
    var scaleHeartbeatMilliseconds: Int
    /// How many heartbeat intervals each scale level is watched for once all its streams are open.
    var scaleWindowIntervals: Int
    /// Idle streams open while the admin scenario times its snapshots.
    var adminSnapshotStreams: Int
    /// Events of the instruction count's first run (the second has three times as many).
    var instructionEvents: Int
    /// The failover scenario: connections x streams per connection, each stream's events per second, how long the
    /// streams run before one origin is killed, and how long they are watched after.
    var failoverConnections: Int
    var failoverStreamsPerConnection: Int
    var failoverEventsPerSecond: Double
    var failoverWarmUpSeconds: Int
    var failoverAfterKillSeconds: Int
    /// The shared scenario: subscribers of the one feed (connections x streams per connection, the private runs'
    /// streams per connection too), the feed's events per second, the window, and the connections of the private
    /// reference run.
    var sharedConnections: Int
    var sharedStreamsPerConnection: Int
    var sharedEventsPerSecond: Double
    var sharedSeconds: Int
    var sharedReferenceConnections: Int

    static let full = ScenarioSizes(
        repetitions: 3,
        fanOutConnections: 10,
        fanOutStreamsPerConnection: 100,
        fanOutEventsPerSecond: 1,
        fanOutSeconds: 20,
        floodConnections: 2,
        floodStreamsPerConnection: 10,
        floodSeconds: 10,
        idleConnections: 50,
        idleStreamsPerConnection: 100,
        idleSeconds: 20,
        afterCloseSeconds: 2,
        webSocketConnections: 50,
        webSocketMessageBytes: 100,
        webSocketSeconds: 10,
        scaleLevels: [2_500, 5_000, 10_000, 15_000, 25_000, 50_000],
        scaleStreamsPerConnection: 100,
        scaleHeartbeatMilliseconds: 2_000,
        scaleWindowIntervals: 4,
        adminSnapshotStreams: 10_000,
        instructionEvents: 100_000,
        failoverConnections: 10,
        failoverStreamsPerConnection: 100,
        failoverEventsPerSecond: 10,
        failoverWarmUpSeconds: 5,
        failoverAfterKillSeconds: 10,
        sharedConnections: 100,
        sharedStreamsPerConnection: 100,
        sharedEventsPerSecond: 10,
        sharedSeconds: 10,
        sharedReferenceConnections: 10
    )

    static let quick = ScenarioSizes(
        repetitions: 1,
        fanOutConnections: 5,
        fanOutStreamsPerConnection: 40,
        fanOutEventsPerSecond: 1,
        fanOutSeconds: 5,
        floodConnections: 2,
        floodStreamsPerConnection: 10,
        floodSeconds: 3,
        idleConnections: 10,
        idleStreamsPerConnection: 100,
        idleSeconds: 5,
        afterCloseSeconds: 2,
        webSocketConnections: 50,
        webSocketMessageBytes: 100,
        webSocketSeconds: 3,
        scaleLevels: [1_000],
        scaleStreamsPerConnection: 100,
        scaleHeartbeatMilliseconds: 2_000,
        scaleWindowIntervals: 3,
        adminSnapshotStreams: 2_000,
        instructionEvents: 30_000,
        failoverConnections: 2,
        failoverStreamsPerConnection: 100,
        failoverEventsPerSecond: 10,
        failoverWarmUpSeconds: 3,
        failoverAfterKillSeconds: 5,
        sharedConnections: 20,
        sharedStreamsPerConnection: 100,
        sharedEventsPerSecond: 10,
        sharedSeconds: 4,
        sharedReferenceConnections: 10
    )
}
