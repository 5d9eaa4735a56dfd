import Foundation

extension Emu3Model {
    /// Emu3-Gen's sampling defaults (`image_generation.py`): CFG 3, temperature 1, top-k 2048.
    public static let defaults = SamplingDefaults(cfgScale: 3, options: SamplingOptions(temperature: 1, topK: 2048, topP: 1))

    /// Loads an Emu3 -hf model folder (`Emu3ForConditionalGeneration.save_pretrained`: config.json with
    /// model_type emu3, text_config and vocabulary_map; the weights in one file or shards, in either
    /// `Emu3KeyLayout`; tokenizer.json) for a `height` × `width` token grid. Matrices are kept in
    /// `precision` (nil: bfloat16 when the checkpoint's layers are, else float32).
    public static func load(directory: String, height: Int, width: Int, precision: WeightPrecision? = nil) throws -> Emu3Model {
        let config = try Emu3Config.read(directory: directory)
        let configPath = (directory as NSString).appendingPathComponent("config.json")
        let vocabulary = try Emu3Vocabulary(map: config.vocabularyMap, path: configPath)
        let tokenizerPath = (directory as NSString).appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: tokenizerPath) else {
            throw CheckpointError(directory, "no tokenizer.json in this folder (Emu3's prompt is encoded with it)")
        }
        let tokenizer = try BPETokenizer(contentsOf: tokenizerPath)
        for name in [Emu3Vocabulary.names.bos, Emu3Vocabulary.names.imageStart, Emu3Vocabulary.names.imageToken] {
            guard tokenizer.anyID(of: name) == config.vocabularyMap[name] else {
                throw CheckpointError(tokenizerPath, "token \(quoted(name)) has id \(tokenizer.anyID(of: name).map(String.init) ?? "none") here and \(config.vocabularyMap[name]!) in config.json's vocabulary_map")
            }
        }
        guard height > 0, width > 0 else {
            throw CheckpointError(directory, "image grid \(width)×\(height) tokens (--image-size) must be at least 1×1")
        }
        let checkpoint = try WeightFolder.open(directory)
        let layout = try Emu3KeyLayout.detect(checkpoint)
        let stored = checkpoint.tensors[layout.body + "layers.0.self_attn.q_proj.weight"]?.dtype
        let weights = try Emu3Weights(config: config, checkpoint: checkpoint, visualIDs: vocabulary.visualIDs,
                                      precision: precision ?? (stored == .bfloat16 ? .bfloat16 : .float32))
        let model = Emu3Model(config: config, weights: weights, prompt: Emu3Prompt(tokenizer: tokenizer, vocabulary: vocabulary),
                              height: height, width: width)
        guard model.maxConditionTokens > 0 else {
            throw CheckpointError(configPath, "text_config.max_position_embeddings \(config.text.max_position_embeddings) leaves no room for a prompt beside a \(width)×\(height) image")
        }
        return model
    }
}
