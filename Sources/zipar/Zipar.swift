import ArgumentParser
import Foundation

@main
struct Zipar: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zipar",
        abstract: "Autoregressive image generation (LlamaGen) with raster or ZipAR decoding, on the CPU.",
        subcommands: [Generate.self, Eval.self, Decode.self, Inspect.self, Load.self, Bench.self, LosslessCheck.self, Serve.self],
        defaultSubcommand: Generate.self
    )

    /// ArgumentParser's main, except that an error is one line on stderr ("Error: …", no usage after it).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard exitCode(for: error) != .success else { exit(withError: error) }  // --help, --version
            FileHandle.standardError.write(Data("Error: \(message(for: error))\n".utf8))
            Foundation.exit(exitCode(for: error).rawValue)
        }
    }
}

/// A one-line error for the command line: what is wrong and with which file or flag.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
