import ArgumentParser
import ZipAR

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Turn a token file into a PNG with the VQ decoder.")

    @OptionGroup(title: "VQ decoder") var vq: VQOptions

    @Option(help: ArgumentHelp("Token JSON as written by generate --tokens-out.", valueName: "file"))
    var tokens: String

    @Option(help: ArgumentHelp("PNG to write.", valueName: "file"))
    var output: String

    func run() throws {
        try OutputFiles.checkWritable(output, flag: "--output")
        let file = try TokenFile.read(tokens)
        let decoder = try vq.load()
        try writeImage(decoder, tokens: file.tokens, height: file.height, width: file.width, to: output)
    }
}
