import Foundation

/// Runs a `BenchmarkPlan`: random weights at the plan's shapes, every schedule's images (warm-up rounds,
/// then timed rounds with the schedules interleaved so a disturbance spreads over all of them), one VQ
/// decode per round, then the bandwidth and matmul probes.
public enum Benchmark {
    /// Measures `plan`; `log` receives one line per step (for a progress display).
    public static func run(_ plan: BenchmarkPlan, log: (String) -> Void = { _ in }) throws -> BenchmarkReport {
        guard plan.repeats >= 1, plan.warmup >= 0 else { throw BenchmarkError("repeats must be at least 1 and warmup at least 0") }
        guard !plan.schedules.isEmpty else { throw BenchmarkError("no schedule to run") }
        let date = ISO8601DateFormatter().string(from: Date())
        let loadStart = MachineInfo.loadAverage()
        let c = plan.gpt

        log("building random \(plan.modelName) weights (\(plan.precision.rawValue))")
        let weights = GPTWeights(uniformRandomFor: c, seed: plan.weightSeed, precision: plan.precision)
        let generator = ImageGenerator(model: GPT(config: c, weights: weights))
        let options = GenerationOptions(classLabel: plan.classLabel, cfgScale: plan.cfgScale, sampling: plan.sampling, seed: plan.seed)
        let decoder = try plan.vq.map { try VQDecoder(uniformRandomFor: $0, seed: plan.weightSeed) }

        var seconds = [[Double]](repeating: [], count: plan.schedules.count)
        var stats = [GenerationStats?](repeating: nil, count: plan.schedules.count)
        var decodeSeconds: [Double] = []
        var tokens: [Int] = []
        for round in 0..<plan.warmup + plan.repeats {
            let timed = round >= plan.warmup
            let label = timed ? "run \(round - plan.warmup + 1)/\(plan.repeats)" : "warm-up \(round + 1)/\(plan.warmup)"
            for (i, schedule) in plan.schedules.enumerated() {
                var result: GenerationResult?
                let t = try Stopwatch.time { result = try generator.generate(schedule, options: options) }
                log("\(label) \(schedule): \(String(format: "%.2f", t)) s, \(result!.stats.forward_passes) passes")
                if timed {
                    seconds[i].append(t)
                    stats[i] = result!.stats
                }
                tokens = result!.tokens
            }
            if let decoder {
                let grid = c.gridSize
                let t = try Stopwatch.time { _ = try decoder.decode(tokens: tokens, height: grid, width: grid) }
                log("\(label) \(plan.vqName) decode: \(String(format: "%.2f", t)) s")
                if timed { decodeSeconds.append(t) }
            }
        }
        let peak = MachineInfo.peakResidentMebibytes()

        log("probing memory bandwidth (\(plan.bandwidthBytes >> 20) MiB) and sgemm \(plan.matmulSize)³")
        let bandwidth = BandwidthProbe.measure(bytes: plan.bandwidthBytes, threads: ComputeThreads.count, repeats: plan.bandwidthRepeats)
        let single = BandwidthProbe.measure(bytes: plan.bandwidthBytes, threads: 1, repeats: plan.bandwidthRepeats)
        let matmul = MatmulProbe.measure(size: plan.matmulSize, repeats: plan.matmulRepeats)

        let bytes = weights.bytesReadPerPass
        let floorMs = Double(bytes) / (bandwidth.bestGigabytesPerSecond * 1e9) * 1e3
        let cells = Double(c.gridSize * c.gridSize)
        var reports: [ScheduleReport] = zip(plan.schedules, zip(seconds, stats)).map { schedule, measured in
            let (times, stats) = (measured.0, measured.1!)
            let med = median(times), passes = stats.forward_passes
            let ms = med / Double(passes) * 1e3
            return ScheduleReport(
                name: schedule.description, passes: passes, secondsAll: times, secondsMedian: med, secondsBest: times.min()!,
                spread: (times.max()! - times.min()!) / med, msPerPass: ms, tokensPerPass: cells / Double(passes),
                inputsPerPass: Double(stats.inputs_per_pass.reduce(0, +)) / Double(passes),
                achievedGigabytesPerSecond: Double(bytes) / (ms * 1e-3) / 1e9, ratioToFloor: ms / floorMs, ratioToRaster: nil,
                drafts: stats.drafts, accepted: stats.accepted, rejected: stats.rejected)
        }
        if let raster = reports.first(where: { $0.name == ScheduleSpec.raster.description }) {
            for i in reports.indices { reports[i].ratioToRaster = reports[i].secondsMedian / raster.secondsMedian }
        }
        let vqReport = decoder.map { d -> VQDecodeReport in
            let flops = d.decodeFlops(height: c.gridSize, width: c.gridSize)
            let med = median(decodeSeconds)
            let rate = flops.total / med / 1e9
            return VQDecodeReport(name: plan.vqName, gridSize: c.gridSize, imageSize: c.gridSize * d.downsample,
                                  secondsAll: decodeSeconds, secondsMedian: med, flops: flops, achievedGflops: rate,
                                  fractionOfMatmulPeak: rate / matmul.bestGflops)
        }
        return BenchmarkReport(
            date: date, machine: .current(), loadAverageStart: loadStart, loadAverageEnd: MachineInfo.loadAverage(),
            model: ModelReport(name: plan.modelName, dim: c.dim, layers: c.n_layer, heads: c.n_head, vocabSize: c.vocab_size,
                               gridHeight: c.gridSize, gridWidth: c.gridSize, imageSize: plan.imageSize,
                               weightPrecision: plan.precision.rawValue, parameters: weights.parameterCount, bytesReadPerPass: bytes),
            settings: SettingsReport(classLabel: plan.classLabel, cfgScale: plan.cfgScale, topK: plan.sampling.topK,
                                     temperature: plan.sampling.temperature, seed: plan.seed, warmup: plan.warmup, repeats: plan.repeats),
            bandwidth: bandwidth, bandwidthSingleThread: single, matmul: matmul, floorMsPerPass: floorMs,
            schedules: reports, vqDecode: vqReport, peakResidentMebibytes: peak)
    }
}
