/// A static key/value cache addressed by absolute sequence position (gpt-fast style): one slot per position,
/// for every layer, batch row and key/value head. Slots start at zero; `written` records which were filled,
/// for schedules whose attention sees only generated tokens.
public final class KVCache {
    public let layers: Int, batch: Int, kvHeads: Int, slots: Int, headDim: Int
    /// Per layer: [batch][kvHead][slot][headDim].
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]
    /// Whether a slot has been written since the last reset.
    public private(set) var written: [Bool]

    /// Floats per layer for keys (or values).
    var perLayer: Int { batch * kvHeads * slots * headDim }

    public init(config: GPTConfig, batch: Int) {
        layers = config.n_layer
        self.batch = batch
        kvHeads = config.kvHeads
        slots = config.cls_token_num + config.block_size
        headDim = config.headDim
        let n = batch * kvHeads * slots * headDim
        keys = (0..<layers).map { _ in .allocate(capacity: n) }
        values = (0..<layers).map { _ in .allocate(capacity: n) }
        written = [Bool](repeating: false, count: slots)
        reset()
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Zeroes every slot, as a fresh cache in the reference.
    public func reset() {
        for l in 0..<layers {
            keys[l].update(repeating: 0, count: perLayer)
            values[l].update(repeating: 0, count: perLayer)
        }
        for i in written.indices { written[i] = false }
    }

    /// Start of the slot vector (layer, batch row, kv head, position).
    @inline(__always)
    func offset(batch b: Int, head g: Int, slot s: Int) -> Int { ((b * kvHeads + g) * slots + s) * headDim }

    func markWritten(_ slot: Int) { written[slot] = true }
}
