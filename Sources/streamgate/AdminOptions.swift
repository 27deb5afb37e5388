import ArgumentParser
import Foundation
import StreamGateAdmin

/// `--admin URL` and `--token T`: how the operator commands (`connections`, `reload`) reach a running StreamGate.
struct AdminOptions: ParsableArguments {
    @Option(help: "The admin endpoint.")
    var admin: String = "http://127.0.0.1:9901"

    @Option(help: "The admin token (default: $STREAMGATE_ADMIN_TOKEN).")
    var token: String?

    /// A client for the endpoint, with the token from the option or the environment.
    func client() throws -> AdminClient {
        try AdminClient(url: admin, token: token ?? ProcessInfo.processInfo.environment["STREAMGATE_ADMIN_TOKEN"])
    }
}
