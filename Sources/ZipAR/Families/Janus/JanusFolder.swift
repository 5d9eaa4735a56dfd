import Foundation

extension JanusModel {
    /// Sampling defaults of Janus-Pro's generation (CFG 5, temperature 1, no top-k or top-p).
    public static let defaults = SamplingDefaults(cfgScale: 5, options: SamplingOptions(temperature: 1, topK: 0, topP: 1))

    /// Loads a Janus model folder in either layout (transformers' `save_pretrained` or deepseek-ai's
    /// release): config.json, the weights (one file or shards), tokenizer.json, and generation_config.json
    /// when present. Returns the model and its VQ-16 decoder, read from the same weights. Matrices are
    /// kept in `precision` (nil: the checkpoint's, bfloat16 when its layers are bfloat16, else float32).
    /// `imageSize` (pixels) overrides the image size the config implies (the deepseek layout's config
    /// names none: 384).
    public static func load(directory: String, precision: WeightPrecision? = nil,
                            imageSize: Int? = nil) throws -> (model: JanusModel, decoder: VQDecoder) {
        var config = try JanusConfig.read(directory: directory)
        let tokenizerPath = (directory as NSString).appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: tokenizerPath) else {
            throw CheckpointError(directory, "no tokenizer.json in this folder (a Janus text-to-image model needs it)")
        }
        let tokenizer = try BPETokenizer(contentsOf: tokenizerPath)
        let generation = try ModelFiles.generationConfig(in: directory)
        func special(_ fromConfig: Int?, _ name: String) throws -> Int {
            if let id = fromConfig ?? tokenizer.id(of: name) { return id }
            throw CheckpointError(tokenizerPath, "no token '\(name)' (and generation_config.json does not give its id)")
        }
        let prompt = JanusPrompt(tokenizer: tokenizer,
                                 bos: try special(generation?.bos_token_id, "<｜begin▁of▁sentence｜>"),
                                 pad: try special(generation?.pad_token_id, "<｜▁pad▁｜>"),
                                 beginOfImage: try special(generation?.generation_kwargs?.boi_token_id, "<begin_of_image>"))
        for (name, id) in [("bos", prompt.bos), ("pad", prompt.pad), ("<begin_of_image>", prompt.beginOfImage)]
        where !(0..<config.text.vocab_size).contains(id) {
            throw CheckpointError(directory, "\(name) token id \(id) lies outside the text vocabulary (\(config.text.vocab_size))")
        }
        let checkpoint = try WeightFolder.open(directory)
        let decoder = try loadDecoder(checkpoint, names: JanusNames(layout: config.layout))
        if let imageSize {
            let s = decoder.downsample
            guard imageSize > 0, imageSize % s == 0, (1...VQDecoder.maxGridSide).contains(imageSize / s) else {
                throw CheckpointError(directory, "image size \(imageSize) is not a multiple of the decoder's \(s) pixels per token giving 1 to \(VQDecoder.maxGridSide) tokens per side")
            }
            config.gridSide = imageSize / s
        }
        let names = JanusNames(layout: config.layout)
        let stored = checkpoint.tensors[names.languageModel + "layers.0.self_attn.q_proj.weight"]?.dtype
        let weights = try JanusWeights(config: config, checkpoint: checkpoint, precision: precision ?? (stored == .bfloat16 ? .bfloat16 : .float32))
        guard decoder.codebookSize == weights.imageVocabulary else {
            throw CheckpointError(directory, "the VQ codebook has \(decoder.codebookSize) codes, the generation head \(weights.imageVocabulary)")
        }
        return (JanusModel(config: config, weights: weights, prompt: prompt), decoder)
    }

    /// The VQ-16 decoder under the layout's prefix, renamed to LlamaGen's names; its levels and res
    /// blocks are read from the weights.
    static func loadDecoder(_ checkpoint: Checkpoint, names: JanusNames) throws -> VQDecoder {
        let vq = checkpoint.view(prefix: names.vqModel, rename: names.llamaGenVQName)
        let config = VQConfig.inferred(from: vq)
        guard !config.decoder_ch_mult.isEmpty else {
            throw CheckpointError(checkpoint.path, "no VQ decoder weights under '\(names.vqModel)decoder.'")
        }
        return try VQDecoder(config: config, checkpoint: vq)
    }
}
