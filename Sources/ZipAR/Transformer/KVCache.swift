/// A static key/value cache addressed by absolute sequence position (gpt-fast style): one slot per position,
/// for every layer, batch row and key/value head. A batch row is one sequence (an image's conditional or
/// unconditional row). Slots start at zero; `written` records, per row, which were filled, for schedules
/// whose attention sees only generated tokens. Entries are float32, or bfloat16 (rounded to
/// nearest even on store, widened in the attention kernel) to halve what attention reads per pass; int8
/// weights keep a bfloat16 cache (keys and values are activations, not quantised: `WeightPrecision.cache`).
public final class KVCache {
    public let layers: Int, batch: Int, kvHeads: Int, slots: Int, headDim: Int
    /// Element type of the stored keys and values: float32 or bfloat16.
    public let precision: WeightPrecision
    /// Per layer: [batch][kvHead][slot][headDim] of `precision`.
    let keys: [UnsafeMutableRawPointer]
    let values: [UnsafeMutableRawPointer]
    /// Whether a slot has been written since the last reset: [batch][slots].
    public private(set) var written: [Bool]

    /// Bytes per layer for keys (or values).
    let bytesPerLayer: Int

    /// A cache of `slots` positions for `batch` rows of a decoder of `shape`, beside weights in `precision`:
    /// .bfloat16 and .int8 store keys and values as bfloat16.
    public init(shape: TransformerShape, batch: Int, slots: Int, precision: WeightPrecision = .float32) {
        layers = shape.layers
        self.batch = batch
        self.precision = precision.cache
        kvHeads = shape.kvHeads
        self.slots = slots
        headDim = shape.headDim
        bytesPerLayer = batch * kvHeads * slots * headDim * precision.cache.size
        keys = (0..<layers).map { [bytesPerLayer] _ in .allocate(byteCount: bytesPerLayer, alignment: 64) }
        values = (0..<layers).map { [bytesPerLayer] _ in .allocate(byteCount: bytesPerLayer, alignment: 64) }
        written = [Bool](repeating: false, count: batch * slots)
        reset()
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Zeroes every slot, as a fresh cache in the reference.
    public func reset() {
        for l in 0..<layers {
            keys[l].initializeMemory(as: UInt8.self, repeating: 0, count: bytesPerLayer)
            values[l].initializeMemory(as: UInt8.self, repeating: 0, count: bytesPerLayer)
        }
        for i in written.indices { written[i] = false }
    }

    /// Zeroes the slots of batch rows `rows` only (a row handed to a new sequence), as `reset` does for all.
    public func reset(rows: Range<Int>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= batch, "rows \(rows) outside the cache's \(batch)")
        let rowBytes = kvHeads * slots * headDim * precision.size
        for l in 0..<layers {
            (keys[l] + rows.lowerBound * rowBytes).initializeMemory(as: UInt8.self, repeating: 0, count: rows.count * rowBytes)
            (values[l] + rows.lowerBound * rowBytes).initializeMemory(as: UInt8.self, repeating: 0, count: rows.count * rowBytes)
        }
        for i in (rows.lowerBound * slots)..<(rows.upperBound * slots) { written[i] = false }
    }

    /// Start of the slot vector (layer, batch row, kv head, position), in elements.
    @inline(__always)
    func offset(batch b: Int, head g: Int, slot s: Int) -> Int { ((b * kvHeads + g) * slots + s) * headDim }

    /// Stores one head's key and value (headDim floats each) in a slot of layer `l`.
    func store(layer l: Int, batch b: Int, head g: Int, slot s: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        let o = offset(batch: b, head: g, slot: s)
        if precision == .float32 {
            (keys[l].assumingMemoryBound(to: Float.self) + o).update(from: key, count: headDim)
            (values[l].assumingMemoryBound(to: Float.self) + o).update(from: value, count: headDim)
        } else {
            let k = keys[l].assumingMemoryBound(to: UInt16.self) + o, v = values[l].assumingMemoryBound(to: UInt16.self) + o
            for d in 0..<headDim {
                k[d] = bfloat16Bits(key[d])
                v[d] = bfloat16Bits(value[d])
            }
        }
    }

    /// Marks `slot` written in every row without storing anything (it keeps its zero key and value): a
    /// benchmark's stand-in for the passes it plans but does not run, so attention reads as many slots as
    /// a real image's does there.
    func markWritten(slot: Int) {
        for b in 0..<batch { written[b * slots + slot] = true }
    }

    /// Bytes of the keys and values of every layer.
    public var byteCount: Int { 2 * layers * bytesPerLayer }

    /// Whether `slot` of batch row `b` has been written.
    public func isWritten(row b: Int, slot: Int) -> Bool { written[b * slots + slot] }

    func markWritten(row b: Int, slot: Int) { written[b * slots + slot] = true }
}
