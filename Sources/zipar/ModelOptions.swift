import ArgumentParser
import Foundation
import ZipAR

/// Which GPT to load: a model folder, a preset with a weight file (or random weights), or the embedded default.
struct GPTOptions: ParsableArguments {
    @Option(name: .customLong("gpt"), help: ArgumentHelp("Folder with config.json and model.safetensors or model.pt (LlamaGen ModelArgs field names).", valueName: "dir"))
    var directory: String?

    @Option(name: .customLong("gpt-model"), help: "LlamaGen preset instead of a folder: \(GPTConfig.presetNames.joined(separator: ", ")). Needs --gpt-ckpt or --random-weights.")
    var preset: String?

    @Option(name: .customLong("gpt-ckpt"), help: ArgumentHelp("Weight file for --gpt-model (e.g. the released c2i_B_256.pt).", valueName: "file"))
    var checkpoint: String?

    @Option(name: .customLong("image-size"), help: "Image size in pixels for --gpt-model (256 or 384 for the released models; the token grid is this ÷ 16).")
    var imageSize: Int = 256

    @Option(name: .customLong("num-classes"), help: "Classes of a --gpt-model preset.")
    var numClasses: Int = 1000

    @Option(name: .customLong("random-weights"), help: ArgumentHelp("Random weights at the preset's real shapes, from this seed (for speed and memory checks; the image is noise).", valueName: "seed"))
    var randomSeed: UInt64?

    @Option(name: .customLong("weights-dtype"), help: "Storage of the GPT's weight matrices and KV cache: float32 (exact) or bfloat16 (half the bytes each pass reads; tokens may differ).")
    var weightsDType: WeightPrecision = .float32

    /// True when no model was named (the embedded default is used).
    var isDefault: Bool { directory == nil && preset == nil }

    /// The sampling defaults of the model folder (its generation_config.json), if it has one; presets
    /// have none.
    func generationConfig() throws -> GenerationConfig? {
        if let directory { return try ModelFiles.generationConfig(in: directory) }
        if preset != nil { return nil }
        return try ModelFiles.generationConfig(in: try DefaultModel.directory("gpt"))
    }

    func load() throws -> GPT {
        if let directory {
            guard preset == nil, checkpoint == nil, randomSeed == nil else {
                throw UsageError("--gpt takes a folder; do not combine it with --gpt-model, --gpt-ckpt or --random-weights")
            }
            return try ModelFiles.loadGPT(directory: directory, precision: weightsDType)
        }
        if let preset {
            guard let config = GPTConfig.preset(preset, imageSize: imageSize, numClasses: numClasses) else {
                throw UsageError("--gpt-model '\(preset)' with --image-size \(imageSize): expected one of \(GPTConfig.presetNames.joined(separator: ", ")) and a size divisible by 16")
            }
            if let seed = randomSeed {
                guard checkpoint == nil else { throw UsageError("--random-weights and --gpt-ckpt exclude each other") }
                return GPT(config: config, weights: GPTWeights(randomFor: config, seed: seed, precision: weightsDType))
            }
            guard let checkpoint else { throw UsageError("--gpt-model needs --gpt-ckpt FILE (or --random-weights SEED)") }
            return try ModelFiles.loadGPT(config: config, weights: checkpoint, precision: weightsDType)
        }
        if checkpoint != nil || randomSeed != nil { throw UsageError("--gpt-ckpt and --random-weights need --gpt-model") }
        return try ModelFiles.loadGPT(directory: try DefaultModel.directory("gpt"), precision: weightsDType)
    }
}

/// Which VQ decoder to load: a folder, the VQ-16 preset with a weight file, or the embedded default.
struct VQOptions: ParsableArguments {
    @Option(name: .customLong("vq"), help: ArgumentHelp("Folder with config.json and model.safetensors or model.pt (LlamaGen VQ ModelArgs names, plus \"ch\").", valueName: "dir"))
    var directory: String?

    @Option(name: .customLong("vq-model"), help: "VQ preset instead of a folder: VQ-16. Needs --vq-ckpt (or --vq-random-weights).")
    var preset: String?

    @Option(name: .customLong("vq-ckpt"), help: ArgumentHelp("Weight file for --vq-model (e.g. the released vq_ds16_c2i.pt).", valueName: "file"))
    var checkpoint: String?

    @Option(name: .customLong("vq-random-weights"), help: ArgumentHelp("Random VQ-16 weights from this seed (speed checks only).", valueName: "seed"))
    var randomSeed: UInt64?

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

/// The model pair shipped inside the executable's resources.
enum DefaultModel {
    static func directory(_ part: String) throws -> String {
        guard let url = Bundle.module.url(forResource: "DefaultModel", withExtension: nil) else {
            throw UsageError("the embedded default model is missing from this build; pass --gpt and --vq")
        }
        return url.appendingPathComponent(part).path
    }
}

extension WeightPrecision: ExpressibleByArgument {}
