import Foundation

/// Runs a `BenchmarkPlan`: random weights at the plan's shapes, every schedule's images (warm-up rounds,
/// then timed rounds with the schedules interleaved so a disturbance spreads over all of them), then the
/// VQ decode of the last image (the same rounds), then the bandwidth and matmul probes.
public enum Benchmark {
    /// Measures `plan`; `log` receives one line per step (for a progress display).
    public static func run(_ plan: BenchmarkPlan, log: (String) -> Void = { _ in }) throws -> BenchmarkReport {
        guard plan.repeats >= 1, plan.warmup >= 0 else { throw BenchmarkError("repeats must be at least 1 and warmup at least 0") }
        guard !plan.schedules.isEmpty else { throw BenchmarkError("no schedule to run") }
        let date = ISO8601DateFormatter().string(from: Date())
        let loadStart = MachineInfo.loadAverage()
        let grid = plan.gridSide

        log("building random \(plan.modelName) weights (\(plan.precision.rawValue))")
        let built = try BuiltBenchmarkModel.build(plan)
        log("weights built in \(String(format: "%.1f", built.loadSeconds)) s")
        let generator = built.generator, options = built.options

        var seconds = [[Double]](repeating: [], count: plan.schedules.count)
        var stats = [GenerationStats?](repeating: nil, count: plan.schedules.count)
        var tokens: [Int] = []
        func label(_ round: Int) -> String {
            round >= plan.warmup ? "run \(round - plan.warmup + 1)/\(plan.repeats)" : "warm-up \(round + 1)/\(plan.warmup)"
        }
        guard plan.batch >= 1 else { throw BenchmarkError("the batch must hold at least 1 image") }
        let batch = (0..<plan.batch).map { k -> GenerationOptions in
            var o = options
            o.seed = options.seed &+ UInt64(k)
            if case .classLabel = o.condition, plan.batch > 1 { o.condition = .classLabel(plan.batchLabels[k % plan.batchLabels.count]) }
            return o
        }
        let layout = try generator.layout(for: options.condition)
        var planned: [GenerationStats?] = []
        if let limit = plan.timedPasses {
            guard limit >= 1 else { throw BenchmarkError("the timed passes must be at least 1") }
            planned = try plan.schedules.map { spec in
                guard let p = plannedPasses(spec, layout: layout) else {
                    throw BenchmarkError("\(spec) cannot be extrapolated (its passes depend on its acceptances): time whole images")
                }
                return BatchStats([GenerationStats](repeating: p, count: plan.batch))
            }
        }
        for round in 0..<plan.warmup + plan.repeats {
            for (i, schedule) in plan.schedules.enumerated() {
                var results: [GenerationResult] = []
                var t: Double
                if let limit = plan.timedPasses {
                    let jobs = batch.map { (schedule: PassPrefixSchedule(schedule.schedule(layout: layout), limit: limit) as any DecodingSchedule, options: $0) }
                    t = try Stopwatch.time { results = try generator.generate(jobs) }
                    let measured = BatchStats(results.map(\.stats)).forward_passes, whole = planned[i]!.forward_passes
                    log("\(label(round)) \(schedule): \(String(format: "%.2f", t)) s for the first \(measured) passes of \(whole)")
                    t *= Double(whole) / Double(measured)
                } else {
                    t = try Stopwatch.time { results = try generator.generate(schedule, batch: batch) }
                }
                let merged = plan.timedPasses == nil ? BatchStats(results.map(\.stats)) : planned[i]!
                if plan.timedPasses == nil {
                    log("\(label(round)) \(schedule): \(String(format: "%.2f", t)) s for \(plan.batch) image(s), \(merged.forward_passes) passes")
                }
                if round >= plan.warmup {
                    seconds[i].append(t / Double(plan.batch))
                    stats[i] = merged
                }
                tokens = results[0].tokens
            }
        }
        // before the decoder exists: what generation alone holds
        let generationPeak = MachineInfo.peakResidentMebibytes()

        var decodeSeconds: [Double] = []
        let decoder = try plan.vq.map { try VQDecoder(uniformRandomFor: $0, seed: plan.weightSeed) }
        if let decoder {
            for round in 0..<plan.warmup + plan.repeats {
                let t = try Stopwatch.time { _ = try decoder.decode(tokens: tokens, height: grid, width: grid) }
                log("\(label(round)) \(plan.vqName) decode: \(String(format: "%.2f", t)) s")
                if round >= plan.warmup { decodeSeconds.append(t) }
            }
        }
        let peak = MachineInfo.peakResidentMebibytes()
        var passCosts: [PassCostProbe.Result] = []
        if !plan.passInputs.isEmpty {
            log("timing passes of 1, \(plan.passInputs.map(String.init).joined(separator: ", ")) inputs")
            passCosts = try PassCostProbe.measure(generator.model, options: options, inputs: plan.passInputs, repeats: max(3, plan.repeats))
        }

        log("probing memory bandwidth (\(plan.bandwidthBytes >> 20) MiB) and sgemm \(plan.matmulSize)³")
        let bandwidth = BandwidthProbe.measure(bytes: plan.bandwidthBytes, threads: ComputeThreads.count, repeats: plan.bandwidthRepeats)
        let single = BandwidthProbe.measure(bytes: plan.bandwidthBytes, threads: 1, repeats: plan.bandwidthRepeats)
        let matmul = MatmulProbe.measure(size: plan.matmulSize, repeats: plan.matmulRepeats)

        let bytes = built.bytesReadPerPass
        let floorMs = Double(bytes) / (bandwidth.bestGigabytesPerSecond * 1e9) * 1e3
        let cfgRows = plan.cfgScale > 1 ? 2 : 1
        let cells = Double(grid * grid * plan.batch)
        var reports: [ScheduleReport] = zip(plan.schedules, zip(seconds, stats)).map { schedule, measured in
            let (times, stats) = (measured.0, measured.1!)
            let med = median(times), passes = stats.forward_passes
            let ms = med * Double(plan.batch) / Double(passes) * 1e3
            let inputs = Double(stats.inputs_per_pass.reduce(0, +)) / Double(passes)
            let rows = inputs * Double(cfgRows)
            let flopMs = 2 * Double(built.streamedParameters) * rows / (matmul.bestGflops * 1e9) * 1e3
            return ScheduleReport(
                name: schedule.description, passes: passes, secondsAll: times, secondsMedian: med, secondsBest: times.min()!,
                spread: (times.max()! - times.min()!) / med, msPerPass: ms, tokensPerPass: cells / Double(passes),
                inputsPerPass: inputs, rowsPerPass: rows,
                achievedGigabytesPerSecond: Double(bytes) / (ms * 1e-3) / 1e9,
                flopFloorMsPerPass: flopMs, floorBinds: flopMs > floorMs ? "flops" : "bandwidth",
                ratioToFloor: ms / max(floorMs, flopMs), ratioToBandwidthFloor: ms / floorMs, ratioToRaster: nil,
                drafts: stats.drafts, accepted: stats.accepted, rejected: stats.rejected,
                imagesPerSecond: 1 / med)
        }
        if let raster = reports.first(where: { $0.name == ScheduleSpec.raster.description }) {
            for i in reports.indices { reports[i].ratioToRaster = reports[i].secondsMedian / raster.secondsMedian }
        }
        let vqReport = decoder.map { d -> VQDecodeReport in
            let flops = d.decodeFlops(height: grid, width: grid)
            let med = median(decodeSeconds)
            let rate = flops.total / med / 1e9
            return VQDecodeReport(name: plan.vqName, gridSize: grid, imageSize: grid * d.downsample,
                                  secondsAll: decodeSeconds, secondsMedian: med, flops: flops, achievedGflops: rate,
                                  fractionOfMatmulPeak: rate / matmul.bestGflops)
        }
        let s = built.shape
        let needed = built.residentWeightBytes + built.kvCacheBytes
        let condition: String
        switch options.condition {
        case .classLabel(let c): condition = plan.batch > 1 ? "classes \(plan.batchLabels.prefix(plan.batch).map(String.init).joined(separator: ","))" : "class \(c)"
        case .promptTokens(let ids): condition = "prompt of \(ids.count) tokens"
        case .prompt(let text): condition = "prompt \"\(text)\""
        }
        return BenchmarkReport(
            date: date, machine: .current(), loadAverageStart: loadStart, loadAverageEnd: MachineInfo.loadAverage(),
            model: ModelReport(name: plan.modelName, family: built.family, dim: s.dim, layers: s.layers, heads: s.heads,
                               kvHeads: s.kvHeads, ffnHidden: s.ffnHidden, vocabSize: built.vocabSize,
                               conditionTokens: built.conditionTokens, gridHeight: grid, gridWidth: grid, imageSize: plan.imageSize,
                               weightPrecision: plan.precision.rawValue, parameters: built.parameters,
                               streamedParameters: built.streamedParameters, bytesReadPerPass: bytes,
                               residentWeightBytes: built.residentWeightBytes, kvCacheBytes: built.kvCacheBytes,
                               loadSeconds: built.loadSeconds),
            settings: SettingsReport(condition: condition, batch: plan.batch, classLabel: plan.classLabel, cfgScale: plan.cfgScale, topK: plan.sampling.topK,
                                     temperature: plan.sampling.temperature, seed: plan.seed, warmup: plan.warmup, repeats: plan.repeats,
                                     timedPasses: plan.timedPasses),
            bandwidth: bandwidth, bandwidthSingleThread: single, matmul: matmul, floorMsPerPass: floorMs,
            schedules: reports, vqDecode: vqReport, passCosts: passCosts, peakResidentMebibytes: peak,
            peakResidentGenerationMebibytes: generationPeak,
            peakResidentToNeeded: generationPeak * 1048576 / Double(needed))
    }
}

/// The statistics of a batch's images as one run of passes: a batch pass feeds every image still open, so
/// passes are the longest image's and inputs add up per pass.
private func BatchStats(_ all: [GenerationStats]) -> GenerationStats {
    var merged = all[0]
    merged.forward_passes = all.map(\.forward_passes).max()!
    merged.inputs_per_pass = (0..<merged.forward_passes).map { p in all.reduce(0) { $0 + (p < $1.inputs_per_pass.count ? $1.inputs_per_pass[p] : 0) } }
    merged.tokens_per_pass = (0..<merged.forward_passes).map { p in all.reduce(0) { $0 + (p < $1.tokens_per_pass.count ? $1.tokens_per_pass[p] : 0) } }
    merged.drafts = all.reduce(0) { $0 + $1.drafts }
    merged.accepted = all.reduce(0) { $0 + $1.accepted }
    merged.rejected = all.reduce(0) { $0 + $1.rejected }
    return merged
}
