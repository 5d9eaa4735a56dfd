import Foundation

extension Emu3Model {
    /// Emu3-Gen's sampling defaults (`image_generation.py`): CFG 3, temperature 1, top-k 2048.
    public static let defaults = SamplingDefaults(cfgScale: 3, options: SamplingOptions(temperature: 1, topK: 2048, topP: 1))

    /// Emu3-Gen's image area (`image_area`, 720 × 720 px) for the default size.
    public static let defaultImageArea = 518_400

    /// Loads an Emu3 -hf model folder (see `load(directory:height:width:precision:)`) for an image of
    /// `pixels` (default: Emu3's 1:1 size for its image area, 720 × 720 px with 8 px per token); each side
    /// must be a multiple of the decoder's pixels per token.
    public static func load(directory: String, pixels: ImageSize?, precision: WeightPrecision? = nil) throws -> (model: Emu3Model, decoder: Emu3VQDecoder) {
        let configPath = (directory as NSString).appendingPathComponent("config.json")
        _ = try Emu3Config.read(directory: directory)
        let f = try ModelFiles.decodeJSON(VQFields.self, at: configPath).vq_config.downsample
        let side = Int((Double(defaultImageArea).squareRoot() / Double(f)).rounded()) * f
        let size = pixels ?? ImageSize(square: side)
        guard size.width % f == 0, size.height % f == 0 else {
            throw CheckpointError(configPath, "image size \(size) (--image-size) has no token grid: each side must be a multiple of the decoder's \(f) px per token")
        }
        return try load(directory: directory, height: size.height / f, width: size.width / f, precision: precision)
    }

    /// Loads an Emu3 -hf model folder (`Emu3ForConditionalGeneration.save_pretrained`: config.json with
    /// model_type emu3, text_config, vq_config and vocabulary_map; the weights, LM and vision tokenizer, in
    /// one file or shards, in either `Emu3KeyLayout`; tokenizer.json; preprocessor_config.json) for a
    /// `height` × `width` token grid. Matrices are kept in `precision` (nil: bfloat16 when the checkpoint's
    /// layers are, else float32).
    public static func load(directory: String, height: Int, width: Int,
                            precision: WeightPrecision? = nil) throws -> (model: Emu3Model, decoder: Emu3VQDecoder) {
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
        try checkPixelMapping(directory: directory)
        let vq = try ModelFiles.decodeJSON(VQFields.self, at: configPath).vq_config
        let decoder = try Emu3VQDecoder.load(config: vq, checkpoint: checkpoint, prefix: layout.vq, configPath: configPath)
        guard decoder.codebookSize == vocabulary.visualIDs.count else {
            throw CheckpointError(configPath, "vq_config.codebook_size \(decoder.codebookSize) differs from the \(vocabulary.visualIDs.count) visual tokens of vocabulary_map")
        }
        return (model, decoder)
    }

    private struct VQFields: Decodable { var vq_config: Emu3VQConfig }

    private struct ProcessorFields: Decodable {
        var image_mean: [Double]?
        var image_std: [Double]?
        var rescale_factor: Double?
    }

    /// Emu3's postprocess maps x to clip((x · std + mean) / rescale_factor, 0, 255) truncated to bytes;
    /// with mean = std = 0.5 and rescale 1/255 (Emu3's values) that is `PixelMapping.clipTruncate`, the only
    /// mapping supported. Errors name preprocessor_config.json and the field.
    static func checkPixelMapping(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("preprocessor_config.json")
        guard FileManager.default.fileExists(atPath: path) else {
            throw CheckpointError(directory, "no preprocessor_config.json in this folder (Emu3's image_mean and image_std come from it)")
        }
        let p = try ModelFiles.decodeJSON(ProcessorFields.self, at: path)
        for (name, values) in [("image_mean", p.image_mean), ("image_std", p.image_std)] where values != [0.5, 0.5, 0.5] {
            throw CheckpointError(path, "field \(quoted(name)) must be [0.5, 0.5, 0.5] (the only pixel mapping supported: (x + 1) / 2 · 255, truncated)")
        }
        if let r = p.rescale_factor, abs(r - 1 / 255) > 1e-9 {
            throw CheckpointError(path, "field 'rescale_factor' must be 1/255")
        }
    }
}
