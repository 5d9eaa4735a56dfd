/// A fixed-size float buffer, freed with its owner. Used for the decoder's activations so that each layer
/// writes into memory allocated once per decode.
final class FloatScratch {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
    }

    deinit { pointer.deallocate() }
}

/// The buffers one decode needs: three activation buffers of the largest activation, the im2col tile and
/// the attention scores.
final class VQWorkspace {
    /// Activation buffers, each holding the largest [C, H, W] activation of the decode.
    var a, b, c: FloatScratch
    /// im2col tile for the 3×3 convolutions.
    let columns: FloatScratch
    /// [positions, positions] attention weights at the lowest resolution.
    let scores: FloatScratch

    init(layout: VQDecoderLayout, tokenHeight: Int, tokenWidth: Int) {
        var largest = max(layout.embedDim, layout.zChannels, 3 * layout.levelWidths[0]) * tokenHeight * tokenWidth
        // 3×3 convolutions read at most max(zChannels, width) channels per level; one image row of
        // columns must fit, and more than the whole image is never needed.
        var oneRow = layout.zChannels * 9 * tokenWidth
        var whole = oneRow * tokenHeight
        var cin = layout.levelWidths[0]
        var (h, w) = (tokenHeight, tokenWidth)
        for (j, cout) in layout.levelWidths.enumerated() {
            largest = max(largest, max(cin, cout) * h * w)
            oneRow = max(oneRow, max(cin, cout) * 9 * w)
            whole = max(whole, max(cin, cout) * 9 * w * h)
            cin = cout
            if j < layout.levelWidths.count - 1 {
                (h, w) = (2 * h, 2 * w)
                largest = max(largest, cout * h * w)
                oneRow = max(oneRow, cout * 9 * w)
                whole = max(whole, cout * 9 * w * h)
            }
        }
        a = FloatScratch(count: largest)
        b = FloatScratch(count: largest)
        c = FloatScratch(count: largest)
        columns = FloatScratch(count: max(oneRow, min(whole, Conv2D.columnBudget)))
        let positions = tokenHeight * tokenWidth
        scores = FloatScratch(count: positions * positions)
    }
}
