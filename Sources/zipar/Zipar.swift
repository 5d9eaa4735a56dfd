import ArgumentParser

@main
struct Zipar: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zipar",
        abstract: "Autoregressive image generation (LlamaGen) with raster or ZipAR decoding, on the CPU.",
        subcommands: [Generate.self, Eval.self, Decode.self, Inspect.self, Load.self, Bench.self],
        defaultSubcommand: Generate.self
    )
}

/// A one-line error for the command line: what is wrong and with which file or flag.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
