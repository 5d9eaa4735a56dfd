import Foundation

/// The Chameleon VQGAN decoder (taming-transformers' VQModel, as Meta's Chameleon release and Lumina-mGPT
/// ship it: `vqgan.yaml` + `vqgan.ckpt`). The yaml's model.params give the codebook (n_embed × embed_dim,
/// no normalisation) and ddconfig the decoder (ch, ch_mult, num_res_blocks, attn_resolutions, resolution,
/// z_channels); the checkpoint is a PyTorch Lightning pickle whose `state_dict` is read with the restricted
/// unpickler (loss.*, encoder.* and quant_conv.* keys are ignored, as Lumina's strict=False load does).
/// taming's names (decoder.up.{i} from the highest resolution, mid.block_1/attn_1/block_2) are mapped to the
/// LlamaGen decoder's, which runs it: the same blocks, GroupNorm(32, eps 1e-6), nearest ×2 + conv upsampling.
public enum ChameleonVQGAN {
    /// What vqgan.yaml says about the decoder.
    public struct Params: Equatable, Sendable {
        public var embed_dim: Int, n_embed: Int
        public var z_channels: Int, ch: Int, ch_mult: [Int], num_res_blocks: Int, attn_resolutions: [Int], resolution: Int
    }

    /// Loads the decoder from `directory` (vqgan.yaml and vqgan.ckpt). Errors name the file and the key.
    public static func load(directory: String) throws -> VQDecoder {
        let yamlPath = (directory as NSString).appendingPathComponent("vqgan.yaml")
        let ckptPath = (directory as NSString).appendingPathComponent("vqgan.ckpt")
        for p in [yamlPath, ckptPath] where !FileManager.default.fileExists(atPath: p) {
            throw CheckpointError(p, "missing (a Chameleon VQGAN folder holds vqgan.yaml and vqgan.ckpt)")
        }
        let params = try readParams(yamlPath)
        let raw = try Checkpoint.open(ckptPath), levels = params.ch_mult.count
        if let extra = raw.names.first(where: { $0.hasPrefix("decoder.up.\(levels).") }) {
            throw CheckpointError(yamlPath, "model.params.ddconfig.ch_mult has \(levels) levels, which does not describe the checkpoint: it has \(quoted(extra))")
        }
        for i in 0..<levels {
            let last = "decoder.up.\(i).block.\(params.num_res_blocks).conv1.weight"
            if raw.tensors[last] == nil {
                throw CheckpointError(yamlPath, "model.params.ddconfig ch_mult (\(levels) levels) and num_res_blocks \(params.num_res_blocks) do not describe the checkpoint: it has no \(quoted(last))")
            }
        }
        let checkpoint = raw.view(prefix: "") { llamaGenName($0, levels: levels) }
        return try decoder(params, checkpoint: checkpoint, yamlPath: yamlPath)
    }

    /// model.params of a vqgan.yaml, checked.
    static func readParams(_ path: String) throws -> Params {
        let root = try MiniYAML.read(path)
        func node(_ keys: [String]) throws -> YAMLValue {
            var v = root
            for (i, k) in keys.enumerated() {
                guard let next = v[k] else { throw CheckpointError(path, "key \(quoted(keys[...i].joined(separator: "."))) is missing") }
                v = next
            }
            return v
        }
        func int(_ keys: [String], range: ClosedRange<Int>) throws -> Int {
            guard case .scalar(let s) = try node(keys), let n = Int(s), range.contains(n) else {
                throw CheckpointError(path, "key \(quoted(keys.joined(separator: "."))) must be a whole number in \(range.lowerBound)…\(range.upperBound)")
            }
            return n
        }
        func ints(_ keys: [String], count: ClosedRange<Int>) throws -> [Int] {
            guard case .sequence(let items) = try node(keys), count.contains(items.count) else {
                throw CheckpointError(path, "key \(quoted(keys.joined(separator: "."))) must be a list of \(count.lowerBound)…\(count.upperBound) numbers")
            }
            return try items.map {
                guard case .scalar(let s) = $0, let n = Int(s), (1...1 << 16).contains(n) else {
                    throw CheckpointError(path, "key \(quoted(keys.joined(separator: "."))) holds a value that is not a positive whole number")
                }
                return n
            }
        }
        let p = ["model", "params"], d = p + ["ddconfig"]
        for (key, expected) in [("double_z", "false"), ("give_pre_end", "false"), ("tanh_out", "false")] {
            if let v = try? node(d + [key]), v != .scalar(expected), !(expected == "false" && v == .scalar("False")) {
                throw CheckpointError(path, "key \(quoted((d + [key]).joined(separator: "."))) must be \(expected) (the only decoder supported)")
            }
        }
        if let out = try? node(d + ["out_ch"]), out != .scalar("3") {
            throw CheckpointError(path, "key 'model.params.ddconfig.out_ch' must be 3 (RGB)")
        }
        return Params(embed_dim: try int(p + ["embed_dim"], range: 1...1 << 16), n_embed: try int(p + ["n_embed"], range: 1...1 << 20),
                      z_channels: try int(d + ["z_channels"], range: 1...1 << 16), ch: try int(d + ["ch"], range: 1...1 << 14),
                      ch_mult: try ints(d + ["ch_mult"], count: 1...12), num_res_blocks: try int(d + ["num_res_blocks"], range: 0...32),
                      attn_resolutions: try ints(d + ["attn_resolutions"], count: 0...12), resolution: try int(d + ["resolution"], range: 1...1 << 16))
    }

    /// The decoder of `params` from a checkpoint already renamed to LlamaGen's names; every width must be
    /// the one the yaml implies.
    static func decoder(_ params: Params, checkpoint: Checkpoint, yamlPath: String) throws -> VQDecoder {
        var config = VQConfig()
        config.codebook_size = params.n_embed
        config.codebook_embed_dim = params.embed_dim
        config.codebook_l2_norm = false
        config.decoder_ch_mult = params.ch_mult
        config.z_channels = params.z_channels
        config.ch = params.ch
        config.num_res_blocks = params.num_res_blocks
        var layout = try VQDecoderLayout(config: config, checkpoint: checkpoint)
        func mismatch(_ what: String, _ key: String, yaml: Int, ckpt: Int) -> CheckpointError {
            CheckpointError(yamlPath, "\(what) \(yaml) does not describe the checkpoint: \(quoted(key)) gives \(ckpt)")
        }
        if layout.codebookSize != params.n_embed { throw mismatch("model.params.n_embed", "quantize.embedding.weight", yaml: params.n_embed, ckpt: layout.codebookSize) }
        if layout.embedDim != params.embed_dim { throw mismatch("model.params.embed_dim", "quantize.embedding.weight", yaml: params.embed_dim, ckpt: layout.embedDim) }
        if layout.zChannels != params.z_channels { throw mismatch("model.params.ddconfig.z_channels", "post_quant_conv.weight", yaml: params.z_channels, ckpt: layout.zChannels) }
        let levels = params.ch_mult.count
        for (j, width) in layout.levelWidths.enumerated() where width != params.ch * params.ch_mult[levels - 1 - j] {
            throw mismatch("model.params.ddconfig.ch × ch_mult[\(levels - 1 - j)]", "decoder.up.\(levels - 1 - j).block.0.conv1.weight",
                           yaml: params.ch * params.ch_mult[levels - 1 - j], ckpt: width)
        }
        let extraBlock = "decoder.conv_blocks.0.res.\(layout.resBlocks).conv1.weight"
        if checkpoint.tensors[extraBlock] != nil {
            throw CheckpointError(yamlPath, "model.params.ddconfig.num_res_blocks \(params.num_res_blocks) does not describe the checkpoint: it has 'decoder.up.\(levels - 1).block.\(layout.resBlocks)'")
        }
        // taming: level i (0 = full resolution) runs at resolution / 2^i; decoder order j = levels − 1 − i
        layout.attentionLevels = Set((0..<levels).filter { j in params.attn_resolutions.contains(params.resolution >> (levels - 1 - j)) })
        return try VQDecoder(layout: layout, checkpoint: checkpoint)
    }

    /// taming's decoder names → LlamaGen's (`VQDecoder`'s) for a decoder of `levels` levels; encoder,
    /// quant_conv and loss tensors dropped.
    static func llamaGenName(_ name: String, levels: Int) -> String? {
        if name.hasPrefix("encoder.") || name.hasPrefix("quant_conv.") || name.hasPrefix("loss.") { return nil }
        var parts = name.split(separator: ".").map(String.init)
        if parts.count > 2, parts[0] == "decoder", parts[1] == "mid" {
            guard let i = ["block_1", "attn_1", "block_2"].firstIndex(of: parts[2]) else { return name }
            parts[2] = String(i)
        } else if parts.count > 3, parts[0] == "decoder", parts[1] == "up" {
            guard let i = Int(parts[2]), (0..<levels).contains(i) else { return nil }
            parts[1] = "conv_blocks"
            parts[2] = String(levels - 1 - i)
            if parts[3] == "block" { parts[3] = "res" }
        }
        return parts.joined(separator: ".")
    }
}
