/// The sizes of a Llama-style decoder stack (pre-norm RMSNorm, multi-head or grouped-query attention,
/// SwiGLU feed-forward), whatever family's config they come from.
public struct TransformerShape: Equatable, Sendable {
    /// Hidden width.
    public var dim: Int
    public var layers: Int
    /// Query heads.
    public var heads: Int
    /// Key/value heads (fewer than `heads`: grouped-query attention).
    public var kvHeads: Int
    /// Per-head width.
    public var headDim: Int
    /// SwiGLU hidden width.
    public var ffnHidden: Int
    /// RMSNorm epsilon.
    public var normEps: Float

    public init(dim: Int, layers: Int, heads: Int, kvHeads: Int, headDim: Int, ffnHidden: Int, normEps: Float) {
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ffnHidden = ffnHidden
        self.normEps = normEps
    }

    /// Rows of the fused q | k | v projection.
    public var qkvWidth: Int { (heads + 2 * kvHeads) * headDim }
    /// Width of the attention output (heads · headDim), the input of the output projection.
    public var attentionWidth: Int { heads * headDim }
}
