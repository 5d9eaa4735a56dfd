import Foundation

extension LuminaModel {
    /// Lumina-mGPT's sampling defaults (inference_solver.py / the ZipAR generate.py): CFG 3, temperature 1,
    /// image top-k 2000.
    public static let defaults = SamplingDefaults(cfgScale: 3, options: SamplingOptions(temperature: 1, topK: 2000, topP: 1))

    /// The image size of Lumina-mGPT-7B-768, used when none is given.
    public static let defaultImageSize = 768

    /// Loads a Lumina-mGPT model folder (`ChameleonXLLMXForConditionalGeneration.save_pretrained`:
    /// config.json with model_type chameleon, the weights in one file or shards, tokenizer.json) and the
    /// Chameleon VQGAN folder `vqDirectory` (vqgan.yaml + vqgan.ckpt). `imageSize` (pixels, default 768)
    /// must be a multiple of 32 whose size token the vocabulary has. Matrices are kept in `precision` (nil:
    /// bfloat16 when the checkpoint's layers are, else float32).
    public static func load(directory: String, vqDirectory: String, precision: WeightPrecision? = nil,
                            imageSize: Int? = nil) throws -> (model: LuminaModel, decoder: VQDecoder) {
        let config = try LuminaConfig.read(directory: directory)
        let tokenizerPath = (directory as NSString).appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: tokenizerPath) else {
            throw CheckpointError(directory, "no tokenizer.json in this folder (Lumina-mGPT's prompt and image ids come from it)")
        }
        let prompt = try LuminaPrompt(tokenizer: try BPETokenizer(contentsOf: tokenizerPath), path: tokenizerPath)
        let size = imageSize ?? defaultImageSize, unit = LuminaPrompt.pixelsPerSizeUnit
        guard size > 0, size % unit == 0 else {
            throw CheckpointError(tokenizerPath, "image size \(size) (--image-size) is not a positive multiple of \(unit) px, the unit of Lumina-mGPT's size tokens")
        }
        guard prompt.sizeTokens[size / unit] != nil else {
            let known = prompt.sizeTokens.keys.sorted()
            let range = known.isEmpty ? "none" : "\(known.first! * unit) to \(known.last! * unit) px"
            throw CheckpointError(tokenizerPath, "image size \(size) (--image-size) needs the size token \(LuminaPrompt.sizeTokenName(size / unit)), which the vocabulary lacks (sizes with a token: \(range))")
        }
        let grid = size / unit * LuminaPrompt.tokensPerSizeUnit
        guard grid <= VQDecoder.maxGridSide else {
            throw CheckpointError(directory, "image size \(size) gives a \(grid)×\(grid) token grid; the decoder takes at most \(VQDecoder.maxGridSide) per side")
        }
        let decoder = try ChameleonVQGAN.load(directory: vqDirectory)
        guard decoder.codebookSize == prompt.imageIDs.count else {
            throw CheckpointError(vqDirectory, "the VQGAN has \(decoder.codebookSize) codes, the tokenizer \(prompt.imageIDs.count) image tokens")
        }
        let checkpoint = try WeightFolder.open(directory)
        let stored = checkpoint.tensors["model.layers.0.self_attn.q_proj.weight"]?.dtype
        let weights = try LuminaWeights(config: config, checkpoint: checkpoint, imageIDs: prompt.imageIDs,
                                        precision: precision ?? (stored == .bfloat16 ? .bfloat16 : .float32))
        let sizeToken = (LuminaPrompt.sizeTokenName(size / unit), prompt.sizeTokens[size / unit]!)
        for (name, id) in [("<s>", prompt.bos), ("<pad>", prompt.pad), ("<racm3:break>", prompt.beginOfImage), ("<reserved08799>", prompt.endOfLine), sizeToken]
        where !(0..<config.text.vocab_size).contains(id) {
            throw CheckpointError(tokenizerPath, "token \(name) has id \(id), outside the model's vocabulary of \(config.text.vocab_size)")
        }
        let model = LuminaModel(config: config, weights: weights, prompt: prompt, imageSize: size)
        guard model.maxConditionTokens > 0 else {
            throw CheckpointError(directory, "max_position_embeddings \(config.text.max_position_embeddings) leaves no room for a prompt beside a \(grid)×\(grid) image")
        }
        return (model, decoder)
    }
}
