/// The cost of one pass as a function of its inputs, cost(n): one image's pass feeding n image tokens at
/// consecutive slots from the middle of the grid (every CFG row), each input's logits computed, as a
/// zipar-lossless window does. Half the grid is written first (untimed), so attention reads a mid-image
/// context. Compared with cost(1), it turns a schedule's passes and inputs per pass, measured on a trained
/// model, into its wall-clock ratio to raster at these shapes.
public enum PassCostProbe {
    /// cost(n): the median milliseconds of `repeats` passes of `inputs` inputs, and its ratio to cost(1).
    public struct Result: Codable, Sendable {
        public var inputs: Int
        public var msMedian: Double
        public var ratioToOne: Double
    }

    /// Times passes of 1 input and of each of `inputs` (clamped to the grid's second half) for the image
    /// `options` names.
    static func measure(_ model: any ImageTokenModel, options: GenerationOptions, inputs: [Int], repeats: Int) throws -> [Result] {
        let conditioning = try model.conditioning(options.condition, guidance: options.cfgScale > 1)
        let layout = conditioning.layout, cells = layout.height * layout.width, start = layout.conditionTokens + cells / 2
        let cache = model.makeCache(batch: conditioning.rows.count, slots: layout.slots)
        let context = layout.prefill().inputs + (layout.conditionTokens..<start).map { ModelInput(.token(0), position: $0) }
        _ = model.forward(context, conditions: conditioning.rows, cache: cache, visibility: .staticCausal, logitsFor: [context.count - 1])
        var times: [(Int, Double)] = []
        for n in [1] + inputs.filter({ $0 != 1 }) {
            let fed = (0..<min(n, layout.slots - start)).map { ModelInput(.token(0), position: start + $0) }
            var samples: [Double] = []
            for round in 0...repeats {
                let t = Stopwatch.time {
                    _ = model.forward(fed, conditions: conditioning.rows, cache: cache, visibility: .writtenCausal, logitsFor: Array(fed.indices))
                }
                if round > 0 { samples.append(t) }  // round 0 warms the buffers up
            }
            times.append((fed.count, median(samples) * 1e3))
        }
        let one = times[0].1
        return times.map { Result(inputs: $0.0, msMedian: $0.1, ratioToOne: $0.1 / one) }
    }
}
