/// A byte-level BPE model: the ids of the single bytes and the merges by rank.
struct BPEModel {
    private struct Merge {
        let rank: Int32
        let id: Int32
    }

    /// The id of each byte's token, -1 where the vocabulary lacks it.
    private let byteIDs: [Int32]
    /// Merges keyed by the pair of ids (left in the high half).
    private let merges: [UInt64: Merge]
    /// Whole pieces that are in the vocabulary, used when `ignore_merges` is set.
    private let words: [[UInt8]: Int]?
    /// The largest id in the vocabulary.
    let maxID: Int

    init(_ spec: BPEModelSpec, file: String) throws {
        var bytesToID = [[UInt8]: Int]()
        for (token, id) in spec.vocab {
            guard id >= 0, id <= Int(Int32.max) else { throw TokenizerError(file, "the vocab id \(id) of \(quoted(token)) is out of range") }
            if let bytes = ByteLevel.bytes(of: token) { bytesToID[bytes] = id }
        }
        byteIDs = (0..<256).map { Int32(bytesToID[[UInt8($0)]] ?? -1) }
        var merges = [UInt64: Merge]()
        for (rank, merge) in spec.merges.enumerated() {
            guard let left = spec.vocab[merge.left], let right = spec.vocab[merge.right],
                  let merged = spec.vocab[merge.left + merge.right] else {
                throw TokenizerError(file, "merge \(rank) \(quoted(merge.left + " " + merge.right)) names a token that is not in the vocab")
            }
            merges[BPEModel.key(Int32(left), Int32(right))] = Merge(rank: Int32(rank), id: Int32(merged))
        }
        self.merges = merges
        words = spec.ignoreMerges ? bytesToID : nil
        maxID = spec.vocab.values.max() ?? -1
    }

    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Appends the ids of one pre-tokenized piece, given as UTF-8 bytes. Bytes missing from the vocabulary
    /// are dropped, as the `tokenizers` library does without an unknown token.
    func encode(_ bytes: [UInt8], into ids: inout [Int]) {
        if let words, let id = words[bytes] {
            ids.append(id)
            return
        }
        var symbols = bytes.map { byteIDs[Int($0)] }.filter { $0 >= 0 }
        guard symbols.count > 1 else { ids += symbols.map(Int.init); return }
        var pairs = (0..<(symbols.count - 1)).map { merges[BPEModel.key(symbols[$0], symbols[$0 + 1])] }
        while true {
            var best = -1
            var bestRank = Int32.max
            for (i, pair) in pairs.enumerated() {
                if let pair, pair.rank < bestRank { best = i; bestRank = pair.rank }
            }
            guard best >= 0, let merged = pairs[best] else { break }
            symbols[best] = merged.id
            symbols.remove(at: best + 1)
            pairs.remove(at: best)
            if best > 0 { pairs[best - 1] = merges[BPEModel.key(symbols[best - 1], symbols[best])] }
            if best < pairs.count { pairs[best] = merges[BPEModel.key(symbols[best], symbols[best + 1])] }
        }
        ids += symbols.map(Int.init)
    }
}
