/// A problem with one configuration value, before it is tied to a file, line and key path.
struct ConfigProblem: Error, Equatable {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}
