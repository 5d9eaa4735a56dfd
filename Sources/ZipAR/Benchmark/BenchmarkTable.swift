import Foundation

extension BenchmarkReport {
    /// The report as one JSON object (snake_case keys, sorted), for machines.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The report as a text table, for people.
    public func table() -> String {
        func f(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
        let m = model, s = settings
        let load = [loadAverageStart, loadAverageEnd].map { $0.map { f($0, 2) } ?? "?" }.joined(separator: " → ")
        let blas = machine.blasThreads.map { ", OpenBLAS \($0)" } ?? ""
        let mb = { (bytes: Int) in f(Double(bytes) / 1e6, 1) + " MB" }
        let topK = s.topK > 0 ? "\(s.topK)" : "none"
        var lines = [
            "zipar bench: \(m.name), \(m.imageSize)×\(m.imageSize) px (\(m.gridHeight)×\(m.gridWidth) tokens), random \(m.weightPrecision) weights, "
                + "\(s.condition)\(s.batch > 1 ? ", batches of \(s.batch)" : ""), CFG \(f(Double(s.cfgScale), 1)), top-k \(topK), temperature \(f(Double(s.temperature), 1)), seed \(s.seed)",
            "model: \(m.family), dim \(m.dim), \(m.layers) layers, \(m.heads)/\(m.kvHeads) heads, FFN \(m.ffnHidden), "
                + "\(m.vocabSize) image tokens, \(f(Double(m.parameters) / 1e6, 1)) M parameters "
                + "(\(f(Double(m.streamedParameters) / 1e6, 1)) M streamed per pass); weights built in \(f(m.loadSeconds, 1)) s",
            "machine: \(machine.cpuModel), \(machine.cores) cores (kernels \(machine.computeThreads) threads\(blas)), "
                + "\(machine.build) build, \(date), load \(load)",
            "memory read (\(bandwidth.bufferBytes >> 20) MiB, best of \(bandwidth.repeats)): \(bandwidth.threads) threads "
                + "\(f(bandwidth.bestGigabytesPerSecond, 1)) GB/s, 1 thread \(f(bandwidthSingleThread.bestGigabytesPerSecond, 1)) GB/s",
            "sgemm \(matmul.size)³ (best of \(matmul.repeats)): \(f(matmul.bestGflops, 1)) GFLOP/s",
            "weights read per pass: \(f(Double(m.bytesReadPerPass) / 1e6, 1)) MB (layer matrices, head, norms; embedding rows not counted)"
                + " → bandwidth floor \(f(floorMsPerPass, 2)) ms/pass",
            "FLOP floor per pass: 2 × \(f(Double(m.streamedParameters) / 1e6, 1)) M streamed parameters × rows/pass "
                + "(inputs/pass × batch rows) at the sgemm peak; ×floor = ms/pass / max(bandwidth floor, FLOP floor)",
            "",
        ]
        let adaptive = schedules.contains { $0.drafts > 0 }
        let header = ["schedule", "s/image", "best", "spread", "images/s", "passes", "ms/pass", "tokens/pass", "rows/pass", "GB/s",
                      "bw floor", "FLOP floor", "×floor", "binds", "×raster"]
            + (adaptive ? ["drafts (accepted/rejected)"] : [])
        var rows = [header]
        for r in schedules {
            rows.append([r.name, f(r.secondsMedian, 2), f(r.secondsBest, 2), f(r.spread * 100, 1) + "%", f(r.imagesPerSecond, 3),
                         "\(r.passes)", f(r.msPerPass, 2),
                         f(r.tokensPerPass, 2), f(r.rowsPerPass, 2), f(r.achievedGigabytesPerSecond, 1), f(floorMsPerPass, 2),
                         f(r.flopFloorMsPerPass, 2), f(r.ratioToFloor, 2), r.floorBinds,
                         r.ratioToRaster.map { f($0, 2) } ?? "–"] + (adaptive ? [r.drafts > 0 ? "\(r.drafts) (\(r.accepted)/\(r.rejected))" : "–"] : []))
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            lines.append(row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  "))
        }
        lines.append((s.batch > 1
                      ? "(batches of \(s.batch) images in shared passes, one ImageGenerator.generate call each; s/image = the batch's seconds / \(s.batch); "
                        + "median of \(s.repeats) timed batches after \(s.warmup) warm-up round(s), schedules interleaved; passes and rows per batch pass"
                      : "(median of \(s.repeats) timed images after \(s.warmup) warm-up round(s), schedules interleaved; "
                        + "one image = one ImageGenerator.generate call")
                     + "; best = fastest; spread = (max − min) / median"
                     + (adaptive ? "; zipar-adaptive: passes and drafts of the last timed image, every round has the same seed; with random "
                        + "weights its acceptance says nothing about quality or a trained model, only its passes and time count)" : ")"))
        if let n = s.timedPasses {
            let skipped = s.timedFrom > 0
                ? ", except that the passes after the first up to \(f(s.timedFrom * 100, 0))% of the schedule's were planned and not run "
                    + "(their cells code 0, their KV slots zero and marked written)"
                : ""
            lines.append("(extrapolated: each image ran its first \(n) schedule passes, after the lead passes\(skipped); s/image = the seconds "
                         + "through the first pass (the prefill) + the mean ms/pass of the other \(n - 1) (median over rounds) × the rest of the "
                         + "passes the schedule plans for the whole grid; later passes attend over more slots than the timed ones)")
            for r in schedules {
                guard let ms = r.timedMsPerPass, let inputs = r.timedInputsPerPass else { continue }
                let from = (r.skippedPasses ?? 0) + 2
                lines.append("  \(r.name): passes \(from)–\(from + n - 2) timed, \(f(ms, 1)) ms/pass at \(f(inputs, 2)) inputs/pass (the whole grid averages "
                             + "\(f(r.inputsPerPass, 2))) → \(f(r.secondsMedian, 1)) s (\(f(r.secondsMedian / 60, 1)) min) per image")
            }
        }
        lines.append("")
        if let v = vqDecode {
            lines.append("\(v.name) decode, \(v.gridSize)×\(v.gridSize) tokens → \(v.imageSize)×\(v.imageSize) px: "
                         + "\(f(v.secondsMedian, 2)) s (median of \(v.secondsAll.count)); \(f(v.flops.total / 1e9, 1)) GFLOP "
                         + "(3×3 and 1×1 convs, attention products) → \(f(v.achievedGflops, 1)) GFLOP/s, "
                         + "\(f(v.fractionOfMatmulPeak, 2)) of the sgemm peak")
            if let whole = v.imageFlops, let seconds = v.extrapolatedImageSeconds {
                lines.append("  \(m.gridHeight)×\(m.gridWidth) tokens → \(m.imageSize)×\(m.imageSize) px (extrapolated by FLOPs, "
                             + "\(f(whole.total / 1e9, 1)) GFLOP): \(f(seconds, 1)) s")
            }
        }
        if !passCosts.isEmpty {
            let rows = s.cfgScale > 1 ? " × 2 CFG rows" : ""
            lines.append("pass cost by inputs (one image, n inputs\(rows) from mid-grid, logits of each; median of \(max(3, s.repeats))): "
                         + passCosts.map { "\($0.inputs): \(f($0.msMedian, 2)) ms (×\(f($0.ratioToOne, 2)))" }.joined(separator: ", "))
        }
        let needed = m.residentWeightBytes + m.kvCacheBytes
        lines.append("peak RSS: \(f(peakResidentGenerationMebibytes, 0)) MiB after the images "
                     + "(\(f(peakResidentMebibytes, 0)) MiB with the decode, before the probes); needed: weights \(mb(m.residentWeightBytes))"
                     + " + KV cache \(mb(m.kvCacheBytes)) = \(mb(needed)) (\(f(Double(needed) / 1048576, 0)) MiB) → peak RSS / needed = \(f(peakResidentToNeeded, 2))")
        return lines.joined(separator: "\n")
    }
}
