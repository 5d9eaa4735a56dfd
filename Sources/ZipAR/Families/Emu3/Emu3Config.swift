import Foundation

/// What an Emu3 -hf model folder's config.json says (transformers' `Emu3Config`, model_type "emu3"; Python
/// field names): the Llama sizes of `text_config` (read as `LlamaTextConfig`: GQA, RoPE θ from
/// `rope_parameters`), `vocabulary_map` (every token's id by name: the visual tokens
/// `<|visual token NNNNNN|>` and Emu3's special tokens) and whether lm_head is tied to the embedding.
/// `vq_config` is not read here (the image decoder is not part of this slice).
public struct Emu3Config: Equatable, Sendable {
    public var text: LlamaTextConfig
    public var vocabularyMap: [String: Int]
    public var tieWordEmbeddings: Bool

    private struct Fields: Decodable {
        var text_config: LlamaTextConfig
        var vocabulary_map: [String: Int]
        var tie_word_embeddings: Bool?
    }
    private struct TextTie: Decodable {
        struct Inner: Decodable { var tie_word_embeddings: Bool? }
        var text_config: Inner
    }

    /// Reads `directory/config.json`; errors name the file and the field.
    public static func read(directory: String) throws -> Emu3Config {
        let path = (directory as NSString).appendingPathComponent("config.json")
        let type = try ModelFiles.modelType(at: path)
        guard type == "emu3" else {
            throw CheckpointError(path, "model_type \(quoted(type ?? "none")) is not an Emu3 model (expected emu3)")
        }
        let fields = try ModelFiles.decodeJSON(Fields.self, at: path)
        let textTie = try ModelFiles.decodeJSON(TextTie.self, at: path).text_config.tie_word_embeddings
        let config = Emu3Config(text: fields.text_config, vocabularyMap: fields.vocabulary_map,
                                tieWordEmbeddings: fields.tie_word_embeddings ?? textTie ?? false)
        try config.text.validate(file: path, prefix: "text_config")
        if let (name, id) = config.vocabularyMap.first(where: { !(0..<config.text.vocab_size).contains($0.value) }) {
            throw CheckpointError(path, "vocabulary_map gives \(quoted(name)) the id \(id), outside text_config.vocab_size \(config.text.vocab_size)")
        }
        return config
    }
}
