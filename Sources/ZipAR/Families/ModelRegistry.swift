import Foundation

/// A text-to-image model ready to generate: the family's transformer, its image decoder, how decoder
/// output becomes bytes, and the sampling defaults (the family's, overridden by generation_config.json).
public struct LoadedModel {
    public let model: any ImageTokenModel
    public let decoder: any ImageDecoder
    public let pixelMapping: PixelMapping
    public let sampling: SamplingDefaults
    /// The family, as the registry names it.
    public let family: String

    public init(model: any ImageTokenModel, decoder: any ImageDecoder, pixelMapping: PixelMapping, sampling: SamplingDefaults,
                family: String) {
        self.model = model
        self.decoder = decoder
        self.pixelMapping = pixelMapping
        self.sampling = sampling
        self.family = family
    }
}

/// Model folders by the `model_type` of their config.json (mlx-swift-lm style): each family registers
/// how it loads, and loading a folder never touches another family's code.
public enum ModelRegistry {
    /// How a family loads a folder: (directory, weight precision (nil: the checkpoint's own), image size in
    /// pixels if overridden, image decoder folder if given separately).
    public typealias Loader = (String, WeightPrecision?, ImageSize?, String?) throws -> LoadedModel

    /// Loaders by model_type.
    public static let families: [String: Loader] = [
        "janus": loadJanus, "multi_modality": loadJanus, "chameleon": loadLumina, "emu3": loadEmu3,
    ]

    /// Loads the model folder `directory` with its matrices in `precision` (nil: bfloat16 when the
    /// checkpoint stores them so, else float32); `imageSize` (pixels) overrides the size its config implies;
    /// `decoderDirectory` is the image decoder's folder for families that keep it apart (Lumina-mGPT's
    /// Chameleon VQGAN), and an error for those that hold their own.
    public static func load(directory: String, precision: WeightPrecision? = nil, imageSize: Int? = nil,
                            decoderDirectory: String? = nil) throws -> LoadedModel {
        try load(directory: directory, precision: precision, size: imageSize.map { ImageSize(square: $0) }, decoderDirectory: decoderDirectory)
    }

    /// `load(directory:precision:imageSize:decoderDirectory:)` with a size that need not be square (Emu3).
    public static func load(directory: String, precision: WeightPrecision? = nil, size imageSize: ImageSize?,
                            decoderDirectory: String? = nil) throws -> LoadedModel {
        let path = (directory as NSString).appendingPathComponent("config.json")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw CheckpointError(directory, "not a folder")
        }
        let type = try ModelFiles.modelType(at: path) ?? "none"
        guard let loader = families[type] else {
            throw CheckpointError(path, "model_type \(quoted(type)) is not a known family (known: \(families.keys.sorted().joined(separator: ", ")))")
        }
        return try loader(directory, precision, imageSize, decoderDirectory)
    }

    static func loadJanus(_ directory: String, _ precision: WeightPrecision?, _ size: ImageSize?, _ decoderDirectory: String?) throws -> LoadedModel {
        if let decoderDirectory {
            throw CheckpointError(decoderDirectory, "a Janus model folder holds its own image decoder: drop --vq")
        }
        let imageSize = try size?.squareSide(folder: directory, family: "Janus-Pro")
        let (model, decoder) = try JanusModel.load(directory: directory, precision: precision, imageSize: imageSize)
        let sampling = JanusModel.defaults.overridden(by: try ModelFiles.generationConfig(in: directory))
        return LoadedModel(model: model, decoder: decoder, pixelMapping: .clipTruncate, sampling: sampling, family: "janus")
    }

    static func loadLumina(_ directory: String, _ precision: WeightPrecision?, _ size: ImageSize?, _ decoderDirectory: String?) throws -> LoadedModel {
        guard let decoderDirectory else {
            throw CheckpointError(directory, "a Lumina-mGPT model needs the Chameleon VQGAN folder (vqgan.yaml, vqgan.ckpt): give --vq DIR")
        }
        let imageSize = try size?.squareSide(folder: directory, family: "Lumina-mGPT")
        let (model, decoder) = try LuminaModel.load(directory: directory, vqDirectory: decoderDirectory, precision: precision, imageSize: imageSize)
        let sampling = LuminaModel.defaults.overridden(by: try ModelFiles.generationConfig(in: directory))
        return LoadedModel(model: model, decoder: decoder, pixelMapping: .clipTruncate, sampling: sampling, family: "lumina")
    }

    static func loadEmu3(_ directory: String, _ precision: WeightPrecision?, _ size: ImageSize?, _ decoderDirectory: String?) throws -> LoadedModel {
        if let decoderDirectory {
            throw CheckpointError(decoderDirectory, "an Emu3 model folder holds its own image decoder (vq_config, vqmodel.*): drop --vq")
        }
        let (model, decoder) = try Emu3Model.load(directory: directory, pixels: size, precision: precision)
        let sampling = Emu3Model.defaults.overridden(by: try ModelFiles.generationConfig(in: directory))
        return LoadedModel(model: model, decoder: decoder, pixelMapping: .clipTruncate, sampling: sampling, family: "emu3")
    }
}
