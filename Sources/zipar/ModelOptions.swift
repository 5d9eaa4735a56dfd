import ArgumentParser
import Foundation
import ZipAR

/// Which model to load: a text-to-image model folder (--model), a LlamaGen GPT folder, a preset with a
/// weight file (or random weights), or the embedded default.
struct GPTOptions: ParsableArguments {
    @Option(name: .customLong("model"), help: ArgumentHelp("Text-to-image model folder as Hugging Face lays it out (config.json by model_type: janus or multi_modality for Janus-Pro, chameleon for Lumina-mGPT; weights in one file or shards; tokenizer.json). Janus holds its own image decoder (no --vq); Lumina-mGPT takes the Chameleon VQGAN folder with --vq.", valueName: "dir"))
    var model: String?

    @Option(name: .customLong("gpt"), help: ArgumentHelp("Folder with config.json and model.safetensors or model.pt (LlamaGen ModelArgs field names).", valueName: "dir"))
    var directory: String?

    @Option(name: .customLong("gpt-model"), help: "LlamaGen preset instead of a folder: \(GPTConfig.presetNames.joined(separator: ", ")). Needs --gpt-ckpt or --random-weights.")
    var preset: String?

    @Option(name: .customLong("gpt-ckpt"), help: ArgumentHelp("Weight file for --gpt-model (e.g. the released c2i_B_256.pt).", valueName: "file"))
    var checkpoint: String?

    @Option(name: .customLong("image-size"), help: "Image size in pixels, N or WxH: for --gpt-model (256 or 384 for the released models, the default 256; the token grid is this ÷ 16), or to override what a --model folder implies (Janus-Pro: 384, the only size it was trained for; Lumina-mGPT: 768 by default, a multiple of 32 with a size token, the grid is this ÷ 16; Emu3: 720 by default, any WxH in multiples of its 8 px per token). Only Emu3 takes WxH with W ≠ H.")
    var size: ImageSize?

    /// A square --image-size (the class models and the presets); an error naming the flag otherwise.
    var imageSize: Int? {
        get throws {
            guard let size else { return nil }
            guard size.width == size.height else { throw UsageError("--image-size \(size): this model draws square images, give one number") }
            return size.width
        }
    }

    @Option(name: .customLong("num-classes"), help: "Classes of a --gpt-model preset.")
    var numClasses: Int = 1000

    @Option(name: .customLong("random-weights"), help: ArgumentHelp("Random weights at the preset's real shapes, from this seed (for speed and memory checks; the image is noise).", valueName: "seed"))
    var randomSeed: UInt64?

    @Option(name: .customLong("weights-dtype"), help: "Storage of the weight matrices and KV cache: float32 (exact), bfloat16 (half the bytes each pass reads; tokens may differ) or int8 (a quarter: one scale per output row; embeddings stay bfloat16 and the KV cache bfloat16). Default: float32 for class models; for a --model folder the checkpoint's own precision (bfloat16 weights stay bfloat16, anything else float32).")
    var weightsDType: WeightPrecision?

    /// True when no model was named (the embedded default is used).
    var isDefault: Bool { directory == nil && preset == nil && model == nil }

    /// The sampling defaults of the class model: LlamaGen's, overridden by the model folder's
    /// generation_config.json when it has one (presets have none).
    func samplingDefaults() throws -> SamplingDefaults {
        if let directory { return SamplingDefaults.llamaGen.overridden(by: try ModelFiles.generationConfig(in: directory)) }
        if preset != nil { return .llamaGen }
        return SamplingDefaults.llamaGen.overridden(by: try ModelFiles.generationConfig(in: try DefaultModel.directory("gpt")))
    }

    /// The text-to-image folder: --model, or the embedded text glyph model when no model flag is given.
    func textModelDirectory() throws -> String {
        guard let model else {
            guard directory == nil, preset == nil, checkpoint == nil, randomSeed == nil else {
                throw UsageError("--prompt needs a text-to-image model (--model DIR, or no model flag for the embedded one); --gpt and --gpt-model are class-to-image models, which take --class-label")
            }
            return try DefaultModel.directory("text")
        }
        guard directory == nil, preset == nil, checkpoint == nil, randomSeed == nil else {
            throw UsageError("--model takes a whole model folder; do not combine it with --gpt, --gpt-model, --gpt-ckpt or --random-weights")
        }
        return model
    }

    /// The text-to-image model (`textModelDirectory()`), its decoder (from `vq`'s --vq folder for a family
    /// that keeps it apart: Lumina-mGPT's Chameleon VQGAN) and defaults.
    func loadTextModel(vq: VQOptions) throws -> LoadedModel {
        let folder = try textModelDirectory()
        try checkFlag("--image-size", size, { (1...1 << 16).contains($0.width) && (1...1 << 16).contains($0.height) }, "must lie in 1…65536")
        guard vq.preset == nil, vq.checkpoint == nil, vq.randomSeed == nil else {
            throw UsageError("--model takes its image decoder from the folder or, for Lumina-mGPT, from --vq DIR: drop --vq-model, --vq-ckpt and --vq-random-weights")
        }
        return try ModelRegistry.load(directory: folder, precision: weightsDType, size: size, decoderDirectory: vq.directory)
    }

    func load() throws -> GPT {
        if let model { throw UsageError("--model \(model) is a text-to-image model folder: give it --prompt, not --class-label") }
        if let directory {
            guard preset == nil, checkpoint == nil, randomSeed == nil, size == nil else {
                throw UsageError("--gpt takes a folder; do not combine it with --gpt-model, --gpt-ckpt, --random-weights or --image-size")
            }
            return try ModelFiles.loadGPT(directory: directory, precision: weightsDType ?? .float32)
        }
        if let preset {
            try checkImageSize(self.imageSize)
            try checkFlag("--num-classes", numClasses, { (1...GPTConfig.maxRows).contains($0) }, "must lie in 1…\(GPTConfig.maxRows)")
            let imageSize = try self.imageSize ?? 256
            guard let config = GPTConfig.preset(preset, imageSize: imageSize, numClasses: numClasses) else {
                throw UsageError("--gpt-model '\(preset)' with --image-size \(imageSize): expected one of \(GPTConfig.presetNames.joined(separator: ", ")) and a size divisible by 16")
            }
            if let seed = randomSeed {
                guard checkpoint == nil else { throw UsageError("--random-weights and --gpt-ckpt exclude each other") }
                return GPT(config: config, weights: GPTWeights(randomFor: config, seed: seed, precision: weightsDType ?? .float32))
            }
            guard let checkpoint else { throw UsageError("--gpt-model needs --gpt-ckpt FILE (or --random-weights SEED)") }
            return try ModelFiles.loadGPT(config: config, weights: checkpoint, precision: weightsDType ?? .float32)
        }
        if checkpoint != nil || randomSeed != nil || size != nil { throw UsageError("--gpt-ckpt, --random-weights and --image-size need --gpt-model") }
        return try ModelFiles.loadGPT(directory: try DefaultModel.directory("gpt"), precision: weightsDType ?? .float32)
    }
}

/// Which VQ decoder to load: a folder, the VQ-16 preset with a weight file, or the embedded default.
struct VQOptions: ParsableArguments {
    @Option(name: .customLong("vq"), help: ArgumentHelp("Folder with config.json and model.safetensors or model.pt (LlamaGen VQ ModelArgs names, plus \"ch\"); with a Lumina-mGPT --model, the Chameleon VQGAN folder (vqgan.yaml, vqgan.ckpt).", valueName: "dir"))
    var directory: String?

    @Option(name: .customLong("vq-model"), help: "VQ preset instead of a folder: VQ-16. Needs --vq-ckpt (or --vq-random-weights).")
    var preset: String?

    @Option(name: .customLong("vq-ckpt"), help: ArgumentHelp("Weight file for --vq-model (e.g. the released vq_ds16_c2i.pt).", valueName: "file"))
    var checkpoint: String?

    @Option(name: .customLong("vq-random-weights"), help: ArgumentHelp("Random VQ-16 weights from this seed (speed checks only).", valueName: "seed"))
    var randomSeed: UInt64?

    /// True when any VQ flag was given.
    var isGiven: Bool { directory != nil || preset != nil || checkpoint != nil || randomSeed != nil }

    func load(defaultAllowed: Bool = true) throws -> VQDecoder {
        if let directory {
            guard preset == nil, checkpoint == nil, randomSeed == nil else {
                throw UsageError("--vq takes a folder; do not combine it with --vq-model, --vq-ckpt or --vq-random-weights")
            }
            return try ModelFiles.loadVQ(directory: directory)
        }
        if let preset {
            guard preset == "VQ-16" else { throw UsageError("--vq-model '\(preset)': only VQ-16 is known") }
            if let seed = randomSeed {
                guard checkpoint == nil else { throw UsageError("--vq-random-weights and --vq-ckpt exclude each other") }
                return try VQDecoder(randomFor: .vq16, seed: seed)
            }
            guard let checkpoint else { throw UsageError("--vq-model needs --vq-ckpt FILE (or --vq-random-weights SEED)") }
            return try ModelFiles.loadVQ(config: .vq16, weights: checkpoint)
        }
        if checkpoint != nil || randomSeed != nil { throw UsageError("--vq-ckpt and --vq-random-weights need --vq-model") }
        return try ModelFiles.loadVQ(directory: try DefaultModel.directory("vq"))
    }
}

/// Most images one command draws per class or label (--per-class, --class-label).
let maxImages = 10_000

/// Refuses a numeric flag's value (NaN, infinite, out of range) unless `isValid`: one line naming the flag,
/// the value and what it takes.
func checkFlag<T>(_ flag: String, _ value: T?, _ isValid: (T) -> Bool, _ expected: String) throws {
    if let value, !isValid(value) { throw UsageError("\(flag) \(value): \(expected)") }
}

/// A --image-size for LlamaGen's 16-pixel tokens: 16 to 16 × the decoder's largest grid, a multiple of 16.
func checkImageSize(_ size: Int?) throws {
    let largest = 16 * VQDecoder.maxGridSide
    try checkFlag("--image-size", size, { (16...largest).contains($0) && $0 % 16 == 0 }, "must be a multiple of 16 from 16 to \(largest)")
}

/// The models shipped inside the executable's resources: the class-label glyph model (gpt + vq), the text
/// glyph model (text, a Janus folder) and the glyph classifier.
enum DefaultModel {
    static func directory(_ part: String) throws -> String {
        guard let url = Bundle.module.url(forResource: "DefaultModel", withExtension: nil) else {
            throw UsageError("the embedded default model is missing from this build; pass --gpt and --vq")
        }
        return url.appendingPathComponent(part).path
    }
}

extension WeightPrecision: ExpressibleByArgument {}

extension ImageSize: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
