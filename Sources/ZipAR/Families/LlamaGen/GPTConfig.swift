import Foundation

/// LlamaGen's GPT `ModelArgs`, with the Python field names, so a config.json written from the Python
/// dataclass reads as is. Absent fields take LlamaGen's defaults.
public struct GPTConfig: Codable, Equatable, Sendable {
    public var dim: Int = 4096
    public var n_layer: Int = 32
    public var n_head: Int = 32
    public var n_kv_head: Int? = nil
    public var multiple_of: Int = 256
    public var ffn_dim_multiplier: Double? = nil
    public var rope_base: Double = 10000
    public var norm_eps: Double = 1e-5
    public var num_classes: Int = 1000
    public var class_dropout_prob: Double = 0.1
    public var model_type: String = "c2i"
    public var vocab_size: Int = 16384
    public var cls_token_num: Int = 1
    public var block_size: Int = 256
    /// Not a LlamaGen field: the character each class draws (class k draws the k-th character), when the
    /// model folder names its classes (the glyph demo model does).
    public var labels: String? = nil

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        dim = try value(.dim, dim)
        n_layer = try value(.n_layer, n_layer)
        n_head = try value(.n_head, n_head)
        n_kv_head = try c.decodeIfPresent(Int.self, forKey: .n_kv_head)
        multiple_of = try value(.multiple_of, multiple_of)
        ffn_dim_multiplier = try c.decodeIfPresent(Double.self, forKey: .ffn_dim_multiplier)
        rope_base = try value(.rope_base, rope_base)
        norm_eps = try value(.norm_eps, norm_eps)
        num_classes = try value(.num_classes, num_classes)
        class_dropout_prob = try value(.class_dropout_prob, class_dropout_prob)
        model_type = try value(.model_type, model_type)
        vocab_size = try value(.vocab_size, vocab_size)
        cls_token_num = try value(.cls_token_num, cls_token_num)
        block_size = try value(.block_size, block_size)
        labels = try c.decodeIfPresent(String.self, forKey: .labels)
    }

    /// Largest dim, n_layer and multiple_of accepted (released models: dim 3200, 48 layers).
    public static let maxWidth = 1 << 16
    /// Largest vocab_size and num_classes accepted.
    public static let maxRows = 1 << 24

    /// Key/value heads (grouped-query attention when fewer than `n_head`).
    public var kvHeads: Int { n_kv_head ?? n_head }
    /// Per-head width.
    public var headDim: Int { dim / n_head }
    /// SwiGLU hidden width: find_multiple(int(ffn_dim_multiplier · int(2·4·dim/3)), multiple_of).
    public var ffnHidden: Int {
        var hidden = (2 * 4 * dim) / 3
        if let m = ffn_dim_multiplier { hidden = Int(m * Double(hidden)) }
        return hidden % multiple_of == 0 ? hidden : hidden + multiple_of - hidden % multiple_of
    }
    /// The decoder stack's sizes.
    public var shape: TransformerShape {
        TransformerShape(dim: dim, layers: n_layer, heads: n_head, kvHeads: kvHeads, headDim: headDim,
                         ffnHidden: ffnHidden, normEps: Float(norm_eps))
    }
    /// Side of the square token grid (block_size = grid²).
    public var gridSize: Int { Int(Double(block_size).squareRoot().rounded()) }
    /// Rows of the class embedding table: one more than the classes when CFG dropout was trained (the null class).
    public var classTableRows: Int { num_classes + (class_dropout_prob > 0 ? 1 : 0) }

    /// Checks the numbers make a model LlamaGen can build, and one that fits in this machine's memory; the
    /// error names the offending field.
    public func validate(file: String) throws {
        func bad(_ message: String) -> CheckpointError { CheckpointError(file, message) }
        guard model_type == "c2i" else { throw bad("model_type \(quoted(model_type)) is not supported yet (only c2i)") }
        guard (1...GPTConfig.maxWidth).contains(dim), (1...GPTConfig.maxWidth).contains(n_layer) else {
            throw bad("dim \(dim) and n_layer \(n_layer) must lie in 1…\(GPTConfig.maxWidth)")
        }
        guard n_head > 0, dim % n_head == 0 else { throw bad("dim \(dim) must be a positive multiple of n_head \(n_head)") }
        guard kvHeads > 0, n_head % kvHeads == 0 else { throw bad("n_head \(n_head) must be a multiple of n_kv_head \(kvHeads)") }
        guard headDim % 4 == 0 else { throw bad("head_dim \(headDim) (dim / n_head) must be a multiple of 4 for 2D RoPE") }
        guard (1...GPTConfig.maxWidth).contains(multiple_of), (1...GPTConfig.maxRows).contains(vocab_size),
              (1...GPTConfig.maxRows).contains(num_classes) else {
            throw bad("multiple_of (at most \(GPTConfig.maxWidth)), vocab_size and num_classes (at most \(GPTConfig.maxRows)) must be positive")
        }
        if let m = ffn_dim_multiplier, !(m > 0 && m <= 64) { throw bad("ffn_dim_multiplier \(m) must lie in (0, 64]") }
        guard cls_token_num == 1 else { throw bad("cls_token_num \(cls_token_num) is not supported for c2i (LlamaGen's class-conditional models use 1)") }
        let maxTokens = VQDecoder.maxGridSide * VQDecoder.maxGridSide
        guard (1...maxTokens).contains(block_size), gridSize * gridSize == block_size else {
            throw bad("block_size \(block_size) is not a square number from 1 to \(maxTokens) (\(VQDecoder.maxGridSide)² tokens)")
        }
        guard rope_base > 0, rope_base.isFinite, norm_eps >= 0, norm_eps.isFinite, class_dropout_prob.isFinite else {
            throw bad("rope_base must be positive and norm_eps non-negative (and finite, as class_dropout_prob)")
        }
        try MemoryBudget.check(shape, rows: 2 * vocab_size + classTableRows, positions: block_size + cls_token_num, file: file)
        if let labels, labels.count != num_classes || Set(labels).count != labels.count {
            throw bad("\"labels\" has \(labels.count) characters (\(Set(labels).count) distinct); it needs one distinct character per class (num_classes \(num_classes))")
        }
    }

    /// The class a label names: one character of `labels` when the model has them and it is one of them,
    /// else a class index 0 … num_classes − 1. Nil when it is neither.
    public func classIndex(_ label: String) -> Int? {
        if let labels, label.count == 1, let i = labels.firstIndex(of: Character(label)) {
            return labels.distance(from: labels.startIndex, to: i)
        }
        guard let i = Int(label), i >= 0, i < num_classes else { return nil }
        return i
    }

    /// What class `index` draws: its character, or the index when the model has no labels.
    public func labelName(_ index: Int) -> String {
        guard let labels, index >= 0, index < labels.count else { return String(index) }
        return String(labels[labels.index(labels.startIndex, offsetBy: index)])
    }

    /// LlamaGen's class-conditional presets by name (GPT-B, GPT-L, GPT-XL, GPT-XXL, GPT-3B, GPT-1B), for a
    /// grid of `imageSize / downsample` tokens per side.
    public static func preset(_ name: String, imageSize: Int, downsample: Int = 16, numClasses: Int = 1000) -> GPTConfig? {
        let shapes: [String: (dim: Int, layers: Int, heads: Int)] = [
            "GPT-B": (768, 12, 12), "GPT-L": (1024, 24, 16), "GPT-XL": (1280, 36, 20),
            "GPT-XXL": (1536, 48, 24), "GPT-3B": (3200, 24, 32), "GPT-1B": (2048, 22, 32),
        ]
        guard let s = shapes[name], imageSize > 0, imageSize % downsample == 0 else { return nil }
        var c = GPTConfig()
        c.dim = s.dim
        c.n_layer = s.layers
        c.n_head = s.heads
        c.num_classes = numClasses
        let grid = imageSize / downsample
        c.block_size = grid * grid
        return c
    }

    /// Names accepted by `preset`.
    public static let presetNames = ["GPT-B", "GPT-L", "GPT-XL", "GPT-XXL", "GPT-1B", "GPT-3B"]
}
