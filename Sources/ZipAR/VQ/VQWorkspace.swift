import Foundation

/// A fixed-size float buffer on a cache-line boundary, freed with its owner. Used for the decoder's
/// activations so that each layer writes into memory allocated once per workspace.
final class FloatScratch {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

/// The buffers one decode needs: three activation buffers of the largest activation, the im2col tile, the
/// Winograd threads' scratch and the attention scores.
final class VQWorkspace {
    /// The token grid and path this workspace was sized for.
    let tokenHeight, tokenWidth: Int
    /// Activation buffers, each holding the largest [C, H, W] activation of the decode.
    var a, b, c: FloatScratch
    /// im2col tile for the 3×3 convolutions on the direct path.
    let columns: FloatScratch
    /// Whether 3×3 convolutions may take the Winograd path (false: all direct, the reference).
    let allowsWinograd: Bool
    /// Scratch of the Winograd path's threads (empty when it is not allowed).
    let winograd: FloatScratch
    /// Per-channel scale and shift of the GroupNorm being applied.
    let normScale, normShift: FloatScratch
    /// [positions, positions] attention weights at the lowest resolution.
    let scores: FloatScratch

    init(layout: VQDecoderLayout, tokenHeight: Int, tokenWidth: Int, allowsWinograd: Bool) {
        self.tokenHeight = tokenHeight
        self.tokenWidth = tokenWidth
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
        self.allowsWinograd = allowsWinograd
        let widest = max(layout.zChannels, layout.levelWidths.max()!)
        winograd = FloatScratch(count: allowsWinograd ? Winograd.scratchFloats(cin: widest, width: w) : 0)
        normScale = FloatScratch(count: widest)
        normShift = FloatScratch(count: widest)
        let positions = tokenHeight * tokenWidth
        scores = FloatScratch(count: positions * positions)
    }
}

/// Keeps the workspace of a decoder's last decode for the next one on the same grid, so that its ~100 MiB
/// (at 256 × 256) are not allocated and faulted in again each time. Concurrent decodes each get their own.
final class VQWorkspaceCache: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: VQWorkspace?

    /// The kept workspace if it fits this decode, else a new one.
    func take(layout: VQDecoderLayout, tokenHeight: Int, tokenWidth: Int, allowsWinograd: Bool) -> VQWorkspace {
        lock.lock()
        let ws = kept
        kept = nil
        lock.unlock()
        if let ws, ws.tokenHeight == tokenHeight, ws.tokenWidth == tokenWidth, ws.allowsWinograd == allowsWinograd {
            return ws
        }
        return VQWorkspace(layout: layout, tokenHeight: tokenHeight, tokenWidth: tokenWidth, allowsWinograd: allowsWinograd)
    }

    /// Keeps `ws` for the next decode.
    func give(_ ws: VQWorkspace) {
        lock.lock()
        kept = ws
        lock.unlock()
    }
}
