import XCTest
@testable import ZipAR

/// zipar (fixed window, every row lagging) and zipar-adaptive (drafted row starts checked by speculative
/// sampling): pass formulas without a model, exactness against raster on the conformance models, and the
/// decoding-order picture.
final class ZipARScheduleTests: XCTestCase {
    /// The pass that settles each cell, read off a model-free run (every draft accepted).
    private func cellPasses(_ passes: [DecodingPass], cells: Int) -> [Int] {
        var settled = [Int](repeating: -1, count: cells)
        for (t, pass) in passes.enumerated() {
            for p in pass.predictions where p.kind != .draft && settled[p.cell] < 0 { settled[p.cell] = t }
        }
        return settled
    }

    /// W + (H−1)·w passes for every square grid 1…24 and window 1…W, and rectangular grids; (r, c) is
    /// settled in pass r·w + c; stand-ins are query-only and sit at the slot of the unfinished row above's
    /// last token.
    func testZipARPassFormula() {
        var shapes = (1...24).map { ($0, $0) }
        for h in [1, 2, 3, 5, 9, 16] { for w in [1, 2, 4, 7, 12, 24] where h != w { shapes.append((h, w)) } }
        for (h, width) in shapes {
            for w in ZipARSchedule.validWindows(width: width) {
                let layout = SequenceLayout(conditionTokens: 1, height: h, width: width)
                for start in RowStart.allCases where start != .shared || h == 8 {
                    var s = ZipARSchedule(layout: layout, window: w, rowStart: start)
                    let passes = drive(&s, height: h, width: width)
                    XCTAssertEqual(passes.count, width + (h - 1) * w, "\(h)×\(width) w=\(w)")
                    let settled = cellPasses(passes, cells: h * width)
                    for r in 0..<h { for c in 0..<width { XCTAssertEqual(settled[r * width + c], r * w + c) } }
                    for input in passes.flatMap(\.inputs) where !input.writesCache {
                        XCTAssertEqual((input.position - 1) % width, width - 1, "stand-in at the slot of a row's last token")
                    }
                }
            }
        }
    }

    /// Window W is raster order: the same inputs pass for pass.
    func testZipARFullWindowIsRasterInputForInput() {
        for side in 1...12 {
            let layout = SequenceLayout(conditionTokens: 1, height: side, width: side)
            var zipar = ZipARSchedule(layout: layout, window: side), raster = RasterSchedule(layout: layout)
            XCTAssertEqual(drive(&zipar, height: side, width: side).map(\.inputs),
                           drive(&raster, height: side, width: side).map(\.inputs))
        }
    }

    /// zipar-adaptive without a model: every draft accepted gives the fixed-window count W + (H−1)·s; every
    /// one rejected gives raster's H·W; anything between lies between.
    func testAdaptivePassBounds() {
        for side in 3...16 {
            let layout = SequenceLayout(conditionTokens: 1, height: side, width: side)
            for s in ZipARAdaptiveSchedule.validMinWindows(width: side)! {
                var all = ZipARAdaptiveSchedule(layout: layout, minWindow: s)
                XCTAssertEqual(drive(&all, height: side, width: side).count, side + (side - 1) * s, "\(side) s=\(s)")
                var none = ZipARAdaptiveSchedule(layout: layout, minWindow: s)
                XCTAssertEqual(drive(&none, height: side, width: side, accept: { _ in false }).count, side * side)
                var rng = RandomSource(seed: UInt64(side * 100 + s))
                var some = ZipARAdaptiveSchedule(layout: layout, minWindow: s)
                let n = drive(&some, height: side, width: side, accept: { _ in rng.nextUniform() < 0.5 }).count
                XCTAssertTrue((side + (side - 1) * s)...(side * side) ~= n, "\(side) s=\(s): \(n) passes")
            }
        }
        XCTAssertNil(ZipARAdaptiveSchedule.validMinWindows(width: 2))
    }

    /// zipar with window W gives raster's tokens on every conformance model: greedy, sampled, and with
    /// guidance stopping part-way (cfg-interval).
    func testZipARFullWindowEqualsRaster() throws {
        for c in try ConformanceCase.all() {
            let generator = ImageGenerator(model: try c.gpt())
            let side = generator.layout.width
            for options in [greedy(c.info.class_label, cfg: 4), GenerationOptions(classLabel: 2, cfgScale: 2, seed: 5),
                            GenerationOptions(classLabel: 4, cfgScale: 3, cfgInterval: 20, seed: 6)] {
                var raster = RasterSchedule(layout: generator.layout, cfgInterval: options.cfgInterval)
                let want = try generator.generate(schedule: &raster, options: options)
                for start in RowStart.allCases {
                    var zipar = ZipARSchedule(layout: generator.layout, window: side, rowStart: start, cfgInterval: options.cfgInterval)
                    let got = try generator.generate(schedule: &zipar, options: options)
                    XCTAssertEqual(got.tokens, want.tokens, "\(c.name) \(start)")
                    XCTAssertEqual(got.stats.forward_passes, side * side)
                    XCTAssertEqual(got.stats.cell_pass, Array(0..<side * side))
                }
            }
        }
    }

    /// zipar-adaptive with every verification forced to reject waits for each full row: raster's tokens
    /// under greedy decoding, in raster's pass count.
    func testAdaptiveRejectingEverythingEqualsRaster() throws {
        for c in try ConformanceCase.all() {
            let generator = ImageGenerator(model: try c.gpt())
            let options = greedy(c.info.class_label, cfg: 4), side = generator.layout.width
            var raster = RasterSchedule(layout: generator.layout)
            let want = try generator.generate(schedule: &raster, options: options)
            generator.rejectAllDrafts = true
            for s in [2, side / 2, side - 1] {
                var adaptive = ZipARAdaptiveSchedule(layout: generator.layout, minWindow: s)
                let got = try generator.generate(schedule: &adaptive, options: options)
                XCTAssertEqual(got.tokens, want.tokens, "\(c.name) s=\(s)")
                XCTAssertEqual(got.stats.forward_passes, side * side)
                XCTAssertEqual(got.stats.accepted, 0)
                XCTAssertEqual(got.stats.rejected, got.stats.drafts)
            }
        }
    }

    /// zipar-adaptive on a model: never more passes than raster, at least the fixed-window count, every
    /// verification counted, every cell settled once.
    func testAdaptiveOnModel() throws {
        let c = try ConformanceCase("c2i-tiny-8x8")
        let generator = ImageGenerator(model: try c.gpt())
        for options in [greedy(3, cfg: 4), GenerationOptions(classLabel: 3, cfgScale: 4, seed: 9)] {
            for s in 2...7 {
                var adaptive = ZipARAdaptiveSchedule(layout: generator.layout, minWindow: s)
                let stats = try generator.generate(schedule: &adaptive, options: options).stats
                XCTAssertTrue((8 + 7 * s)...64 ~= stats.forward_passes, "s=\(s): \(stats.forward_passes)")
                XCTAssertEqual(stats.tokens_per_pass.reduce(0, +), 64)
                XCTAssertFalse(stats.cell_pass.contains(-1))
                XCTAssertGreaterThanOrEqual(stats.drafts, 7)  // rows 1…7 each draft at least once
                XCTAssertEqual(stats.accepted + stats.rejected, stats.drafts)  // each draft is verified once
                let histogram = stats.tokensPerPassHistogram
                XCTAssertEqual(histogram.reduce(0, +), stats.forward_passes)
                XCTAssertEqual(histogram.enumerated().map { $0 * $1 }.reduce(0, +), 64)
            }
        }
    }

    /// The order picture is the image's size, each token a block of one colour, the first and last pass
    /// far apart on the ramp; side by side puts the two next to each other.
    func testPassOrderImage() {
        let layout = SequenceLayout(conditionTokens: 1, height: 4, width: 4)
        var s = ZipARSchedule(layout: layout, window: 2)
        let settled = cellPasses(drive(&s, height: 4, width: 4), cells: 16)
        let order = RGBImage.passOrder(cellPass: settled, gridHeight: 4, gridWidth: 4, width: 32, height: 32)
        XCTAssertEqual(order.width, 32)
        XCTAssertEqual(order.pixels.count, 32 * 32 * 3)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(order.pixels[(y * 32 + x) * 3..<(y * 32 + x) * 3 + 3]) }
        XCTAssertEqual(pixel(0, 0), pixel(7, 7))  // one block per token
        XCTAssertEqual(pixel(8, 0), pixel(8 + 7, 7))
        XCTAssertNotEqual(pixel(0, 0), pixel(8, 0))
        let first = pixel(0, 0), last = pixel(31, 31)
        XCTAssertGreaterThan(zip(first, last).map { abs(Int($0) - Int($1)) }.reduce(0, +), 200)
        XCTAssertEqual(pixel(8, 8), pixel(24, 0))  // (1, 1) and (0, 3) share pass 3: the wavefront
        let both = RGBImage.sideBySide(order, RGBImage(width: 10, height: 20, pixels: [UInt8](repeating: 0, count: 600)), gap: 2)
        XCTAssertEqual([both.width, both.height], [44, 32])
        XCTAssertEqual(Array(both.pixels[(33 * 3)..<(33 * 3 + 3)]), [255, 255, 255])  // the gap
        XCTAssertEqual(Array(both.pixels[(34 * 3)..<(34 * 3 + 3)]), [0, 0, 0])  // the right image
        XCTAssertEqual(Array(both.pixels[((31 * 44) + 34) * 3..<((31 * 44) + 34) * 3 + 3]), [255, 255, 255])  // padding
    }
}
