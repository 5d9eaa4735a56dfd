import ArgumentParser
import Foundation
import ZipAR

struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a model and its image decoder, and report load seconds and peak memory against the weights' bytes.",
        discussion: """
        Loads the model (its matrices packed in --weights-dtype) and its decoder as `zipar generate` does \
        (a class model's GPT and VQ, or a --model folder), then makes the KV cache of one image with CFG \
        (2 rows; for a text model with a 32-token prompt). Prints the load's seconds, the bytes the packed \
        weights and the cache hold, and the process's peak resident memory (VmHWM) after all of it. Run it \
        twice to time a warm page cache.
        """)

    @OptionGroup var gpt: GPTOptions
    @OptionGroup var vq: VQOptions

    func run() throws {
        let start = Date()
        let family: LoadedModel
        var parts: String
        if gpt.model != nil {
            family = try gpt.loadTextModel(vq: vq)
            parts = String(format: "model and decoder %.3f s", Date().timeIntervalSince(start))
        } else {
            let model = try gpt.load()
            let gptSeconds = Date().timeIntervalSince(start)
            family = LoadedModel(model: model, decoder: try vq.load(), pixelMapping: .saveImage, sampling: .llamaGen, family: "llamagen")
            let vqSeconds = Date().timeIntervalSince(start) - gptSeconds
            parts = String(format: "GPT %.3f s, VQ %.3f s, together %.3f s", gptSeconds, vqSeconds, gptSeconds + vqSeconds)
        }
        let model = family.model
        let prompt = gpt.model != nil ? 32 : model.maxConditionTokens
        let rowSlots = model.gridWidth + (model.rowsEndInLineEnd ? 1 : 0)  // Lumina's end-of-line token per row
        let cache = model.makeCache(batch: 2, slots: prompt + model.gridHeight * rowSlots)
        let peak = MachineInfo.peakResidentMebibytes() * 1_048_576
        let (g, v, c) = (model.weightBytes, family.decoder.byteCount, cache.byteCount)
        func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
        print("load: \(family.family), \(parts)")
        print("bytes held: model \(mb(g)) (\(model.precision.rawValue) matrices), decoder \(mb(v)) (float32, Winograd filters included), "
              + "KV cache \(mb(c)) (\(cache.precision.rawValue), 2 rows × \(cache.slots) slots); sum \(mb(g + v + c))")
        print(String(format: "peak RSS (VmHWM): %.1f MB = %.3f× the sum", peak / 1e6, peak / Double(g + v + c)))
        withExtendedLifetime((family, cache)) {}
    }
}
