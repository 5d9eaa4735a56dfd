import Foundation

/// Emu3's token ids, from config.json's `vocabulary_map`: the visual token of each VQ code
/// (`<|visual token NNNNNN|>`, NNNNNN the code) and the special tokens of image generation.
public struct Emu3Vocabulary: Equatable, Sendable {
    /// Vocabulary id of each VQ code (index = code).
    public let visualIDs: [Int]
    /// `<|extra_203|>` (BOS), `<|image start|>`, `<|image token|>` (ends the prompt, before the first row),
    /// `<|extra_200|>` (end of line), `<|extra_201|>` (end of frame), `<|image end|>`, `<|extra_204|>` (EOS).
    public let bos: Int, imageStart: Int, imageToken: Int, endOfLine: Int, endOfFrame: Int, imageEnd: Int, eos: Int

    /// The special tokens' names, as Emu3's tokenizer spells them.
    static let names = (bos: "<|extra_203|>", imageStart: "<|image start|>", imageToken: "<|image token|>",
                        endOfLine: "<|extra_200|>", endOfFrame: "<|extra_201|>", imageEnd: "<|image end|>", eos: "<|extra_204|>")

    /// Reads the ids from `map` (config.json at `path`, named in errors).
    public init(map: [String: Int], path: String) throws {
        func id(_ name: String) throws -> Int {
            guard let id = map[name] else { throw CheckpointError(path, "vocabulary_map has no \(quoted(name))") }
            return id
        }
        var codes: [Int: Int] = [:]
        for (name, id) in map {
            guard let code = Emu3Vocabulary.code(ofVisualToken: name) else { continue }
            guard codes.updateValue(id, forKey: code) == nil else { throw CheckpointError(path, "vocabulary_map: visual code \(code) has two tokens") }
        }
        guard !codes.isEmpty, codes.keys.max()! == codes.count - 1 else {
            throw CheckpointError(path, "vocabulary_map: the <|visual token NNNNNN|> tokens do not name the codes 0…n−1 (\(codes.count) found)")
        }
        let n = Emu3Vocabulary.names
        visualIDs = (0..<codes.count).map { codes[$0]! }
        bos = try id(n.bos)
        imageStart = try id(n.imageStart)
        imageToken = try id(n.imageToken)
        endOfLine = try id(n.endOfLine)
        endOfFrame = try id(n.endOfFrame)
        imageEnd = try id(n.imageEnd)
        eos = try id(n.eos)
    }

    /// `<|visual token NNNNNN|>` → NNNNNN; nil for other tokens.
    static func code(ofVisualToken name: String) -> Int? {
        let prefix = "<|visual token ", suffix = "|>"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.count == 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }
}
