/// A request the VQ decoder cannot serve (bad grid size, a token outside the codebook), in one line.
public struct VQDecodeError: Error, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
