import Foundation

/// How Emu3-Gen turns a prompt into tokens (its processor with `return_for_image_generation`):
/// BOS + `{prompt}<|image start|>{H}*{W}<|image token|>` (H, W the token grid), the text encoded with the
/// folder's tokenizer.json, special-token names in it split out. The negative prompt is built the same way.
public struct Emu3Prompt: Sendable {
    /// The folder's tokenizer; nil for a model fed pre-tokenized prompts only.
    public let tokenizer: BPETokenizer?
    public let vocabulary: Emu3Vocabulary

    /// Emu3-Gen's negative prompt (`image_generation.py`), used when none is given.
    public static let defaultNegative = "lowres, bad anatomy, bad hands, text, error, missing fingers, extra digit, fewer digits, cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, username, blurry."

    public init(tokenizer: BPETokenizer?, vocabulary: Emu3Vocabulary) {
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
    }

    /// The text tokenized after BOS for `prompt` on a `height` × `width` token grid.
    public static func text(_ prompt: String, height: Int, width: Int) -> String {
        "\(prompt)\(Emu3Vocabulary.names.imageStart)\(height)*\(width)\(Emu3Vocabulary.names.imageToken)"
    }

    /// BOS and the template's tokens.
    public func tokens(_ prompt: String, height: Int, width: Int) throws -> [Int] {
        guard let tokenizer else { throw GenerationError.wrongCondition(expected: "pre-tokenized prompts (it has no tokenizer)") }
        return [vocabulary.bos] + tokenizer.encode(Emu3Prompt.text(prompt, height: height, width: width), addSpecialTokens: false)
    }
}
