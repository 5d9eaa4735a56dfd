import Foundation

/// How Lumina-mGPT turns a prompt into tokens, and its token ids, all read from the tokenizer's vocabulary:
/// BOS + `Generate an image of {W}x{H} according to the following prompt:\n{prompt}<reserved08706>`
/// (Lumina's conversation template, encoded without special tokens), then the image header
/// `<racm3:break>`, the H and W size tokens `<reserved{8800+n}>` (n = pixels / 32, a grid of 2n tokens per
/// side); every image row ends in `<reserved08799>` (end of line). Image ids are the vocabulary's
/// `IMGIMG<letters>Z` tokens, letters A–J the digits of the VQ code (the vocabulary permutes them).
public struct LuminaPrompt: Sendable {
    /// The folder's tokenizer; nil for a model fed pre-tokenized prompts only (random-weight benchmarks).
    public let tokenizer: BPETokenizer?
    public let bos: Int, pad: Int, beginOfImage: Int, endOfLine: Int
    /// Vocabulary id of each VQ code (index = code).
    public let imageIDs: [Int]
    /// Size-token id of each n (pixels / 32) the vocabulary has.
    public let sizeTokens: [Int: Int]

    /// Pixels per size-token unit (Lumina's patch size) and tokens per side per unit.
    public static let pixelsPerSizeUnit = 32, tokensPerSizeUnit = 2
    /// Size tokens looked up (up to 2048 px; the decoder takes at most 64 tokens, 1024 px, per side).
    static let maxSizeUnits = 64

    public init(tokenizer: BPETokenizer?, bos: Int, pad: Int, beginOfImage: Int, endOfLine: Int, imageIDs: [Int], sizeTokens: [Int: Int]) {
        self.tokenizer = tokenizer
        self.bos = bos
        self.pad = pad
        self.beginOfImage = beginOfImage
        self.endOfLine = endOfLine
        self.imageIDs = imageIDs
        self.sizeTokens = sizeTokens
    }

    /// Reads the ids from `tokenizer` (at `path`, named in errors).
    public init(tokenizer: BPETokenizer, path: String) throws {
        func id(_ name: String) throws -> Int {
            guard let id = tokenizer.anyID(of: name) else { throw CheckpointError(path, "no token \(quoted(name)) in the vocabulary") }
            return id
        }
        var codes: [Int: Int] = [:]
        for (name, id) in tokenizer.vocabulary {
            guard let code = LuminaPrompt.code(ofImageToken: name) else { continue }
            guard codes.updateValue(id, forKey: code) == nil else { throw CheckpointError(path, "image code \(code) has two tokens") }
        }
        guard !codes.isEmpty, codes.keys.max()! == codes.count - 1 else {
            throw CheckpointError(path, "the IMGIMG…Z image tokens do not name the codes 0…n−1 (\(codes.count) found)")
        }
        var sizes: [Int: Int] = [:]
        for n in 1...LuminaPrompt.maxSizeUnits {
            if let t = tokenizer.anyID(of: LuminaPrompt.sizeTokenName(n)) { sizes[n] = t }
        }
        self.init(tokenizer: tokenizer, bos: try id("<s>"), pad: try id("<pad>"), beginOfImage: try id("<racm3:break>"),
                  endOfLine: try id("<reserved08799>"), imageIDs: (0..<codes.count).map { codes[$0]! }, sizeTokens: sizes)
    }

    /// `IMGIMG<letters>Z` → the code its letters spell (A = 0 … J = 9); nil for other tokens.
    static func code(ofImageToken name: String) -> Int? {
        guard name.hasPrefix("IMGIMG"), name.hasSuffix("Z"), name.count > 7, name.count <= 7 + 6 else { return nil }
        var code = 0
        for ch in name.dropFirst(6).dropLast().unicodeScalars {
            guard ch.value >= 65, ch.value <= 74 else { return nil }
            code = code * 10 + Int(ch.value - 65)
        }
        return code
    }

    /// The size token of n units (n · 32 pixels).
    static func sizeTokenName(_ n: Int) -> String {
        let digits = String(8800 + n)
        return "<reserved" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ">"
    }

    /// The text that is tokenized for a prompt at `pixels` × `pixels`.
    public static func text(_ prompt: String, pixels: Int) -> String {
        "Generate an image of \(pixels)x\(pixels) according to the following prompt:\n\(prompt)<reserved08706>"
    }

    /// BOS and the template's tokens.
    public func tokens(_ prompt: String, pixels: Int) throws -> [Int] {
        guard let tokenizer else { throw GenerationError.wrongCondition(expected: "pre-tokenized prompts (it has no tokenizer)") }
        return [bos] + tokenizer.encode(LuminaPrompt.text(prompt, pixels: pixels), addSpecialTokens: false)
    }
}
