import ArgumentParser
import Foundation
import ZipAR

struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a class model and its VQ decoder, and report load seconds and peak memory against the weights' bytes.",
        discussion: """
        Loads the GPT (its matrices packed in --weights-dtype) and the VQ decoder as `zipar generate` does, \
        then makes the KV cache of one image with CFG (2 rows). Prints each load's seconds, the bytes the \
        packed weights and the cache hold, and the process's peak resident memory (VmHWM) after all of it. \
        Run it twice to time a warm page cache.
        """)

    @OptionGroup var gpt: GPTOptions
    @OptionGroup var vq: VQOptions

    func run() throws {
        if gpt.model != nil { throw UsageError("zipar load measures class models: use --gpt, --gpt-model or the default, not --model") }
        let start = Date()
        let model = try gpt.load()
        let gptSeconds = Date().timeIntervalSince(start)
        let decoder = try vq.load()
        let vqSeconds = Date().timeIntervalSince(start) - gptSeconds
        let cache = model.makeCache(batch: 2)
        let peak = MachineInfo.peakResidentMebibytes() * 1_048_576
        let (g, v, c) = (model.weights.byteCount, decoder.byteCount, cache.byteCount)
        func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
        print(String(format: "load: GPT %.3f s, VQ %.3f s, together %.3f s", gptSeconds, vqSeconds, gptSeconds + vqSeconds))
        print("bytes held: GPT \(mb(g)) (\(model.precision.rawValue) matrices), VQ \(mb(v)) (float32, Winograd filters included), "
              + "KV cache \(mb(c)) (\(cache.precision.rawValue), 2 rows × \(cache.slots) slots); sum \(mb(g + v + c))")
        print(String(format: "peak RSS (VmHWM): %.1f MB = %.3f× the sum", peak / 1e6, peak / Double(g + v + c)))
        withExtendedLifetime((model, decoder, cache)) {}
    }
}
