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
        var scheduleStats = [GenerationStats?](repeating: nil, count: plan.schedules.count)
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
        var planned: [GenerationStats?] = [], skips: [Int] = []
        if let limit = plan.timedPasses {
            guard limit >= 2, (0..<1).contains(plan.timedFrom) else {
                throw BenchmarkError("the timed passes must be at least 2 (the first is the prefill) and the timed-from fraction in [0, 1)")
            }
            planned = try plan.schedules.map { spec in
                guard let p = plannedPasses(spec, layout: layout) else {
                    throw BenchmarkError("\(spec) cannot be extrapolated (its passes depend on its acceptances): time whole images")
                }
                let passes = p.forward_passes - spec.schedule(layout: layout).leadPasses(for: layout).count
                guard limit <= passes else { throw BenchmarkError("\(spec): \(limit) timed passes exceed its \(passes) passes") }
                skips.append(min(max(0, Int((Double(passes) * plan.timedFrom).rounded()) - 1), passes - limit))
                return BatchStats([GenerationStats](repeating: p, count: plan.batch))
            }
        }
        var timedMs = [[Double]](repeating: [], count: plan.schedules.count)
        var timedInputs = [Double?](repeating: nil, count: plan.schedules.count)
        for round in 0..<plan.warmup + plan.repeats {
            for (i, schedule) in plan.schedules.enumerated() {
                var results: [GenerationResult] = []
                var t: Double
                if let limit = plan.timedPasses {
                    // each image marks the same batch passes; the skipped slots are the same in every image
                    let record = PassPrefixRecord(), inner = schedule.schedule(layout: layout)
                    let jobs = batch.enumerated().map { k, o in
                        (schedule: PassPrefixSchedule(inner, layout: layout, limit: limit, skip: skips[i], record: k == 0 ? record : PassPrefixRecord())
                            as any DecodingSchedule, options: o)
                    }
                    let timed = ImageGenerator(model: SkippedContextModel(generator.model, record: record))
                    let start = DispatchTime.now().uptimeNanoseconds
                    let measured = try Stopwatch.time { results = try timed.generate(jobs) }
                    let marks = record.finished
                    let lead = inner.leadPasses(for: layout).count, whole = planned[i]!.forward_passes
                    let first = Double(marks[0] - start) / 1e9, later = Double(marks.last! - marks[0]) / 1e9 / Double(marks.count - 1)
                    let stats = BatchStats(results.map(\.stats))
                    let inputs = Double(stats.inputs_per_pass.suffix(marks.count - 1).reduce(0, +)) / Double(marks.count - 1)
                    t = first + later * Double(whole - lead - 1)
                    log("\(label(round)) \(schedule): \(String(format: "%.2f", measured)) s for \(stats.forward_passes) of \(whole) passes"
                        + (skips[i] > 0 ? " (\(skips[i]) skipped after the first)" : "")
                        + ": through the first \(String(format: "%.2f", first)) s, then \(String(format: "%.1f", later * 1e3)) ms/pass"
                        + " (\(String(format: "%.2f", inputs)) inputs/pass) → \(String(format: "%.1f", t)) s for the image")
                    if round >= plan.warmup {
                        timedMs[i].append(later * 1e3)
                        timedInputs[i] = inputs
                    }
                } else {
                    t = try Stopwatch.time { results = try generator.generate(schedule, batch: batch) }
                }
                let merged = plan.timedPasses == nil ? BatchStats(results.map(\.stats)) : planned[i]!
                if plan.timedPasses == nil {
                    log("\(label(round)) \(schedule): \(String(format: "%.2f", t)) s for \(plan.batch) image(s), \(merged.forward_passes) passes")
                }
                if round >= plan.warmup {
                    seconds[i].append(t / Double(plan.batch))
                    scheduleStats[i] = merged
                }
                tokens = results[0].tokens
            }
        }
        // before the decoder exists: what generation alone holds
        let generationPeak = MachineInfo.peakResidentMebibytes()

        var decodeSeconds: [Double] = []
        let decodeGrid = plan.decodeGridSide ?? grid
        guard (1...grid).contains(decodeGrid) else { throw BenchmarkError("the decode grid \(decodeGrid) must lie in 1…\(grid)") }
        let decoder = try plan.decoder.map { try BuiltBenchmarkDecoder($0, seed: plan.weightSeed) }
        if let decoder {
            let codes = (0..<decodeGrid * decodeGrid).map { tokens[($0 / decodeGrid) * grid + $0 % decodeGrid] }
            for round in 0..<plan.warmup + plan.repeats {
                let t = try Stopwatch.time { _ = try decoder.decoder.decode(tokens: codes, height: decodeGrid, width: decodeGrid) }
                log("\(label(round)) \(plan.vqName) decode of \(decodeGrid)×\(decodeGrid) tokens: \(String(format: "%.2f", t)) s")
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
        var reports: [ScheduleReport] = plan.schedules.indices.map { i in
            let (schedule, times, stats) = (plan.schedules[i], seconds[i], scheduleStats[i]!)
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
                timedMsPerPass: timedMs[i].isEmpty ? nil : median(timedMs[i]), timedInputsPerPass: timedInputs[i],
                skippedPasses: skips.isEmpty ? nil : skips[i],
                drafts: stats.drafts, accepted: stats.accepted, rejected: stats.rejected,
                imagesPerSecond: 1 / med)
        }
        if let raster = reports.first(where: { $0.name == ScheduleSpec.raster.description }) {
            for i in reports.indices { reports[i].ratioToRaster = reports[i].secondsMedian / raster.secondsMedian }
        }
        let vqReport = decoder.map { d -> VQDecodeReport in
            let flops = d.flops(decodeGrid), med = median(decodeSeconds)
            let rate = flops.total / med / 1e9
            let whole = decodeGrid < grid ? d.flops(grid) : nil
            return VQDecodeReport(name: plan.vqName, gridSize: decodeGrid, imageSize: decodeGrid * d.decoder.downsample,
                                  secondsAll: decodeSeconds, secondsMedian: med, flops: flops, achievedGflops: rate,
                                  fractionOfMatmulPeak: rate / matmul.bestGflops, imageFlops: whole,
                                  extrapolatedImageSeconds: whole.map { med * $0.total / flops.total })
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
                                     timedPasses: plan.timedPasses, timedFrom: plan.timedFrom),
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
