/// Starts a fresh origin and a fresh peer in front of it, runs `body`, and stops both whatever happens.
enum ProxyRun {
    /// `grace`: how long the peer may take to exit after SIGTERM before it is killed (longer under valgrind, which
    /// writes its counts on exit).
    static func with<T: Sendable>(
        _ launcher: any PeerLauncher,
        environment: ScenarioEnvironment,
        grace: Duration = .seconds(5),
        _ body: (RunningPeer, BenchOrigin) async throws -> T
    ) async throws -> T {
        let origin = try await BenchOrigin.start(group: environment.originGroup)
        let peer: RunningPeer
        do {
            peer = try await launcher.start(
                originPort: origin.port(for: launcher.upstreamProtocol),
                workspace: environment.workspace,
                group: environment.clientGroup
            )
        } catch {
            await origin.stop()
            throw error
        }
        do {
            let result = try await body(peer, origin)
            await peer.stop(grace: grace)
            await origin.stop()
            return result
        } catch {
            await peer.stop(grace: grace)
            await origin.stop()
            throw error
        }
    }

    /// Opens the load, runs `body` with it, and closes the load whatever happens.
    static func withLoad<T: Sendable>(
        _ shape: LoadShape,
        peer: RunningPeer,
        environment: ScenarioEnvironment,
        _ body: (LoadClient) async throws -> T
    ) async throws -> T {
        let client = await LoadClient.open(
            group: environment.clientGroup,
            target: peer.target,
            shape: shape,
            tlsContext: environment.tlsContext
        )
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// Notes for a measurement: streams that failed or ended early, with their reasons, and what the peer logged
    /// at warning level or above.
    static func notes(for stats: ClientStats, peer: RunningPeer) -> [String] {
        var notes: [String] = []
        if stats.streamsFailed > 0 || stats.streamsEnded > 0 || !stats.failureReasons.isEmpty {
            notes.append(
                "\(stats.streamsFailed) of \(stats.streamsRequested) streams failed, \(stats.streamsEnded) ended early"
                    + (stats.failureReasons.isEmpty ? "" : ": " + stats.failureReasons.joined(separator: "; "))
            )
        }
        if let process = peer.process {
            let problems = process.log().split(separator: "\n").filter { line in
                ["warning", "error", "critical", "[alert]", "[crit]", "[emerg]"].contains { line.contains($0) }
            }
            if !problems.isEmpty {
                notes.append("\(problems.count) warning/error lines in \(process.logPath), first: \(problems[0])")
            }
        }
        return notes
    }

    /// Fails the measurement when not a single stream opened: nothing was measured.
    static func requireOpenStreams(_ stats: ClientStats) throws {
        guard stats.streamsOpen > 0 else {
            throw ScenarioFailure(
                description: "no stream opened (\(stats.streamsFailed) failed): "
                    + stats.failureReasons.joined(separator: "; ")
            )
        }
    }
}
