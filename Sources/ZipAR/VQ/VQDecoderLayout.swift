/// The sizes that shape a VQ decoder: codebook, latent width and the channel width of each level.
struct VQDecoderLayout: Equatable {
    /// Codes in the codebook.
    var codebookSize: Int
    /// Dimensions of one code.
    var embedDim: Int
    /// Width after post_quant_conv (the decoder's input).
    var zChannels: Int
    /// Width of `decoder.conv_blocks.j`, in the decoder's order: j = 0 is the lowest resolution (and the
    /// width of conv_in and the middle blocks), the last is full resolution.
    var levelWidths: [Int]
    /// Res blocks per level (num_res_blocks + 1).
    var resBlocks: Int
    /// Whether code vectors are L2-normalised at lookup.
    var l2Normalize: Bool
    /// Levels (decoder order, 0 = lowest resolution) with an attention block after each res block:
    /// LlamaGen's first level; taming's levels whose resolution is in attn_resolutions.
    var attentionLevels: Set<Int> = [0]

    /// The layout LlamaGen builds from `config` alone.
    init(config: VQConfig) {
        codebookSize = config.codebook_size
        embedDim = config.codebook_embed_dim
        zChannels = config.z_channels
        levelWidths = config.decoder_ch_mult.reversed().map { config.ch * $0 }
        resBlocks = config.num_res_blocks + 1
        l2Normalize = config.codebook_l2_norm
    }

    /// The layout of the decoder stored in `checkpoint`: the number of levels and the normalisation come
    /// from `config`, every width from the weights' shapes. Errors name the key that is missing or odd.
    init(config: VQConfig, checkpoint: Checkpoint) throws {
        try config.validate(file: checkpoint.path)
        func shape(_ name: String, rank: Int) throws -> [Int] {
            let s = try checkpoint.entry(name).shape
            guard s.count == rank, s.allSatisfy({ $0 > 0 }) else {
                throw CheckpointError(checkpoint.path, "weight '\(name)' has shape \(s), expected \(rank) positive dimensions")
            }
            return s
        }
        let codebook = try shape("quantize.embedding.weight", rank: 2)
        codebookSize = codebook[0]
        embedDim = codebook[1]
        zChannels = try shape("post_quant_conv.weight", rank: 4)[0]
        let levels = config.decoder_ch_mult.count
        levelWidths = try (0..<levels).map { try shape("decoder.conv_blocks.\($0).res.0.conv1.weight", rank: 4)[0] }
        let extra = "decoder.conv_blocks.\(levels).res.0.conv1.weight"
        if checkpoint.tensors[extra] != nil {
            throw CheckpointError(checkpoint.path, "config decoder_ch_mult has \(levels) levels but the weights have \(quoted(extra))")
        }
        resBlocks = config.num_res_blocks + 1
        l2Normalize = config.codebook_l2_norm
        for (j, w) in levelWidths.enumerated() where w % GroupNorm.groups != 0 {
            throw CheckpointError(checkpoint.path, "weight 'decoder.conv_blocks.\(j).res.0.conv1.weight' gives width \(w), not a multiple of GroupNorm's \(GroupNorm.groups) groups")
        }
    }

    /// Pixels per token along each side.
    var upscale: Int { 1 << (levelWidths.count - 1) }
}
