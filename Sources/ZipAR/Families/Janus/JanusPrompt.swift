import Foundation

/// How Janus-Pro turns a prompt into tokens: the deepseek SFT template
/// `<|User|>: {prompt.strip()}\n\n<|Assistant|>:` followed by `<begin_of_image>`, encoded with BOS; for
/// classifier-free guidance the same sequence with every token but BOS and `<begin_of_image>` replaced by
/// the pad token (what transformers' `generate(generation_mode="image")` feeds the unconditional rows).
public struct JanusPrompt: Sendable {
    /// The folder's tokenizer; nil for a model fed pre-tokenized prompts only (random-weight benchmarks).
    public let tokenizer: BPETokenizer?
    public let bos: Int, pad: Int, beginOfImage: Int

    /// The text that is tokenized for `prompt` (an empty prompt gives the template alone: an image
    /// conditioned on nothing but the template).
    public static func text(_ prompt: String) -> String {
        "<|User|>: " + prompt.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n<|Assistant|>:" + "<begin_of_image>"
    }

    public init(tokenizer: BPETokenizer?, bos: Int, pad: Int, beginOfImage: Int) {
        self.tokenizer = tokenizer
        self.bos = bos
        self.pad = pad
        self.beginOfImage = beginOfImage
    }

    /// The conditional row: the template's tokens, starting with BOS.
    public func tokens(_ prompt: String) throws -> [Int] {
        guard let tokenizer else { throw GenerationError.wrongCondition(expected: "pre-tokenized prompts (it has no tokenizer)") }
        let ids = tokenizer.encode(JanusPrompt.text(prompt))
        return ids.first == bos ? ids : [bos] + ids
    }

    /// The unconditional row for `ids`.
    public func unconditional(_ ids: [Int]) -> [Int] {
        ids.map { $0 == bos || $0 == beginOfImage ? $0 : pad }
    }
}
