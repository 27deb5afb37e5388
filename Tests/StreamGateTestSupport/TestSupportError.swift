/// A failure of the test harness itself (binary missing, process did not start), with a message that says why.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
