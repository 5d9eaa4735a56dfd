import Foundation
import ZipAR

/// The model a server generates with: a loaded family, the id clients name it by, and how a request's
/// prompt becomes the model's condition.
public final class ServedModel: @unchecked Sendable {
    /// The id `GET /v1/models` lists and `model` in a request must match (when given).
    public let id: String
    /// The loaded model, decoder and defaults. Only the engine's generation thread uses `loaded.model`
    /// and only its decode thread uses `loaded.decoder`.
    public let loaded: LoadedModel
    /// The image's pixel size (width, height) for the model's token grid.
    public let size: (width: Int, height: Int)
    /// For a class model with named classes ("labels", the glyph model: 0-9 A-Z) the labels; nil otherwise.
    public let labels: String?
    /// True for a class-to-image model (prompt = one class label); false for text-to-image.
    public let isClassModel: Bool

    public init(id: String, loaded: LoadedModel) {
        self.id = id
        self.loaded = loaded
        let side = loaded.decoder.downsample
        size = (loaded.model.gridWidth * side, loaded.model.gridHeight * side)
        if let gpt = loaded.model as? GPT {
            isClassModel = true
            labels = gpt.config.labels
        } else {
            isClassModel = false
            labels = nil
        }
    }

    /// `size` as the API writes it ("48x48").
    public var sizeName: String { "\(size.width)x\(size.height)" }

    /// The condition `prompt` names: for a class model one label as `--class-label` takes it (a character of
    /// its labels, or a class index), for a text model the prompt itself. Throws `APIError` (param "prompt").
    public func condition(for prompt: String) throws -> ImageCondition {
        guard let gpt = loaded.model as? GPT else { return .prompt(prompt) }
        let label = prompt.trimmingCharacters(in: .whitespaces)
        guard let index = gpt.config.classIndex(label) else {
            let expected = labels.map { "one of its labels \($0)" } ?? "a class index 0…\(gpt.config.num_classes - 1)"
            throw APIError.invalid("'\(prompt)' is not a class of model \(id): give \(expected)", param: "prompt")
        }
        return .classLabel(index)
    }
}
