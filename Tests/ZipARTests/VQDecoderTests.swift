import Foundation
import XCTest
@testable import ZipAR

final class VQDecoderTests: XCTestCase {
    /// Float tolerance against PyTorch's float32 output.
    let floatTolerance: Float = 1e-4

    /// Every run of a conformance case: the float image within `floatTolerance` of the reference, and the
    /// 8-bit pixels against the reference PNG (every value within 2, at most 0.5% off by more than 1).
    private func checkCase(_ name: String) throws {
        let testCase = try ConformanceCase(name)
        let (dir, spec, expected) = (testCase.directory, testCase.info, testCase.expected)
        let decoder = try testCase.vq()
        XCTAssertFalse(spec.runs.isEmpty)
        for run in spec.runs {
            let key = "\(run.key)_image"
            let start = Date()
            let image = try decoder.decode(tokens: run.tokens, height: spec.grid, width: spec.grid)
            let seconds = Date().timeIntervalSince(start)
            let side = spec.grid * decoder.downsample
            XCTAssertEqual([image.channels, image.height, image.width], [3, side, side])
            let reference = try expected.floats(key, shape: [3, side, side])
            let maxError = zip(image.data, reference).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(maxError, floatTolerance, "\(name) \(key)")

            let png = try readPNG(dir.appendingPathComponent(run.image).path)
            let ours = image.rgbImage()
            XCTAssertEqual([png.width, png.height], [side, side])
            // The conversion itself is exact: the reference floats give the reference PNG byte for byte.
            let converted = VQImage(channels: 3, height: side, width: side, data: reference).rgbImage()
            XCTAssertEqual(converted.pixels, png.pixels, "\(name) \(run.image): save_image conversion")
            let diffs = zip(ours.pixels, png.pixels).map { abs(Int($0) - Int($1)) }
            let offByMoreThanOne = diffs.filter { $0 > 1 }.count
            XCTAssertLessThanOrEqual(diffs.max() ?? 0, 2, "\(name) \(run.image)")
            XCTAssertLessThanOrEqual(Double(offByMoreThanOne), 0.005 * Double(diffs.count), "\(name) \(run.image)")
            print("\(name) \(key): max |Δ| float \(maxError), pixels differing \(diffs.filter { $0 > 0 }.count)/\(diffs.count), max \(diffs.max() ?? 0); decode \(String(format: "%.4f", seconds)) s")
        }
    }

    func testTinySafetensorsCaseMatchesReference() throws {
        try checkCase("c2i-tiny-8x8")
    }

    func testTorchCheckpointCaseMatchesReference() throws {
        try checkCase("c2i-pt-10x10")
    }

    func testTokenOutOfRangeThrows() throws {
        let decoder = try ConformanceCase("c2i-tiny-8x8").vq()
        var tokens = [Int](repeating: 0, count: 64)
        tokens[5] = decoder.codebookSize
        XCTAssertThrowsError(try decoder.decode(tokens: tokens, height: 8, width: 8)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("token 5") && message.contains("\(decoder.codebookSize)"), message)
        }
        tokens[5] = -1
        XCTAssertThrowsError(try decoder.decode(tokens: tokens, height: 8, width: 8))
        XCTAssertThrowsError(try decoder.decode(tokens: [0, 1, 2], height: 2, width: 2))
    }

    /// Loads a decoder from the tiny case's VQ weights with `edit` applied, through a temporary file.
    private func loadEdited(_ edit: (inout [(name: String, shape: [Int], data: [Float])]) -> Void) throws -> VQDecoder {
        let vq = ConformanceCase.root.appendingPathComponent("c2i-tiny-8x8/vq")
        let source = try Checkpoint.open(vq.appendingPathComponent("model.safetensors").path)
        var tensors = source.names.map { name in (name: name, shape: source.tensors[name]!.shape, data: source.tensors[name]!.floats()) }
        edit(&tensors)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vq-edit-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsWriter.write(tensors, to: path)
        let config = try JSONDecoder().decode(VQConfig.self, from: Data(contentsOf: vq.appendingPathComponent("config.json")))
        return try VQDecoder(config: config, checkpoint: Checkpoint.open(path))
    }

    private func assertLoadError(naming key: String, _ more: String = "",
                                 _ edit: (inout [(name: String, shape: [Int], data: [Float])]) -> Void) {
        XCTAssertThrowsError(try loadEdited(edit)) { error in
            XCTAssertTrue(error is CheckpointError, "\(error)")
            let message = "\(error)"
            XCTAssertTrue(message.contains("'\(key)'") && (more.isEmpty || message.contains(more)), message)
        }
    }

    func testMissingWeightIsNamed() {
        assertLoadError(naming: "decoder.mid.1.q.weight") { $0.removeAll { $0.name == "decoder.mid.1.q.weight" } }
        assertLoadError(naming: "decoder.conv_blocks.1.res.0.nin_shortcut.bias") {
            $0.removeAll { $0.name == "decoder.conv_blocks.1.res.0.nin_shortcut.bias" }
        }
    }

    func testMisshapedWeightIsNamed() {
        let key = "decoder.conv_blocks.2.res.1.conv2.weight"
        assertLoadError(naming: key, "[32, 32, 1, 1]") { tensors in
            let i = tensors.firstIndex { $0.name == key }!
            tensors[i] = (key, [32, 32, 1, 1], [Float](repeating: 0, count: 32 * 32))
        }
        assertLoadError(naming: "decoder.norm_out.weight", "[16]") { tensors in
            let i = tensors.firstIndex { $0.name == "decoder.norm_out.weight" }!
            tensors[i] = ("decoder.norm_out.weight", [16], [Float](repeating: 1, count: 16))
        }
    }

    func testUnusedWeightsAreNotNeeded() throws {
        let decoder = try loadEdited { tensors in
            tensors.removeAll { $0.name.hasPrefix("encoder.") || $0.name.hasPrefix("quant_conv.") || $0.name == "quantize.codebook_used" }
        }
        let image = try decoder.decode(tokens: Array(0..<64), height: 8, width: 8)
        XCTAssertEqual(image.data.count, 3 * 32 * 32)
    }

    func testConfigDefaultsAndUnknownFields() throws {
        let json = #"{"codebook_size": 1024, "decoder_ch_mult": [1, 2], "ch": 32, "something_new": [1, 2, 3]}"#
        let config = try JSONDecoder().decode(VQConfig.self, from: Data(json.utf8))
        XCTAssertEqual(config.codebook_size, 1024)
        XCTAssertEqual(config.decoder_ch_mult, [1, 2])
        XCTAssertEqual(config.ch, 32)
        XCTAssertEqual(config.z_channels, 256)
        XCTAssertEqual(config.codebook_embed_dim, 8)
        XCTAssertTrue(config.codebook_l2_norm)
        XCTAssertEqual(config.downsample, 2)
        let preset = try JSONDecoder().decode(VQConfig.self, from: Data("{}".utf8))
        XCTAssertEqual(preset, VQConfig.vq16)
        XCTAssertEqual(VQConfig.vq16.downsample, 16)
        XCTAssertEqual(VQDecoderLayout(config: .vq16).levelWidths, [512, 256, 256, 128, 128])
    }

    func testPixelConversionMatchesSaveImage() {
        XCTAssertEqual(PixelMapping.saveImage.byte(-1), 0)
        XCTAssertEqual(PixelMapping.saveImage.byte(-7), 0)
        XCTAssertEqual(PixelMapping.saveImage.byte(1), 255)
        XCTAssertEqual(PixelMapping.saveImage.byte(3), 255)
        XCTAssertEqual(PixelMapping.saveImage.byte(0), 128)  // 127.5 + 0.5 = 128
        XCTAssertEqual(PixelMapping.saveImage.byte(.nan), 0)
        // (x + 1) / 2 · 255 + 0.5, truncated: 0.1 → 140.75 + 0.5 → 140.
        XCTAssertEqual(PixelMapping.saveImage.byte(0.1), 140)
    }

    func testSwishMatchesDefinition() {
        var worst: Float = 0
        var x: Float = -90
        while x <= 90 {
            let exact = Double(x) / (1 + Foundation.exp(-Double(x)))
            let error = abs(Double(Swish.apply(x)) - exact) / max(abs(exact), 1e-30)
            if abs(exact) > 1e-30 { worst = max(worst, Float(error)) }
            x += 0.0137
        }
        XCTAssertLessThan(worst, 1e-6)
    }

    /// One 3×3 convolution on random data by Winograd and by the direct path; returns max |Δ| divided by
    /// the largest output magnitude. `upsampled`: the input is half size and read ×2 upsampled;
    /// `normalized`: it is read through GroupNorm + swish; `accumulate`: both add into the same random output.
    private func winogradError(cin: Int, cout: Int, height: Int, width: Int, upsampled: Bool = false,
                               normalized: Bool = false, accumulate: Bool = false, seed: UInt64) throws -> Float {
        var rng = RandomSource(seed: seed)
        func random(_ count: Int, _ std: Float) -> [Float] { (0..<count).map { _ in rng.nextGaussian() * std } }
        let (sourceHeight, sourceWidth) = upsampled ? (height / 2, width / 2) : (height, width)
        let x = random(cin * sourceHeight * sourceWidth, 1)
        let params = ["c.weight": random(cout * cin * 9, 1 / Float(cin * 9).squareRoot()), "c.bias": random(cout, 0.1),
                      "n.weight": random(cin, 0.3).map { $0 + 1 }, "n.bias": random(cin, 0.5)]
        let read: WeightReader = { name, _ in params[name]! }
        let conv = try ConvWeights(read, "c", cin: cin, cout: cout, kernel: 3, withWinograd: true)
        let norm = try NormWeights(read, "n", channels: cin)
        let start = accumulate ? random(cout * height * width, 1) : [Float](repeating: 0, count: cout * height * width)
        var fast = start, reference = start
        let plane = height * width
        let scratch = FloatScratch(count: Winograd.scratchFloats(cin: cin, width: width))
        let columns = FloatScratch(count: cin * 9 * plane)
        let full = FloatScratch(count: cin * plane)
        let scale = FloatScratch(count: cin), shift = FloatScratch(count: cin)
        x.withUnsafeBufferPointer { x in
            let input = x.baseAddress!
            // The reference: upsample and normalise into `full` as the decoder's direct path does.
            if upsampled {
                Conv2D.upsampleNearest2x(input, channels: cin, height: sourceHeight, width: sourceWidth, into: full.pointer)
            } else {
                full.pointer.update(from: input, count: cin * plane)
            }
            if normalized {
                GroupNorm.apply(norm, input: full.pointer, channels: cin, plane: plane, output: full.pointer, swish: true,
                                scale: scale.pointer, shift: shift.pointer)
                GroupNorm.affine(norm, input: input, channels: cin, plane: sourceHeight * sourceWidth,
                                 scale: scale.pointer, shift: shift.pointer)
            }
            reference.withUnsafeMutableBufferPointer { y in
                Conv2D.direct(conv, input: full.pointer, height: height, width: width, output: y.baseAddress!,
                              accumulate: accumulate, columns: columns)
            }
            fast.withUnsafeMutableBufferPointer { y in
                Winograd.apply(filters: conv.winograd!, bias: conv.bias, cin: cin, cout: cout, input: input,
                               height: height, width: width, upsampled: upsampled,
                               normalize: normalized ? (UnsafePointer(scale.pointer), UnsafePointer(shift.pointer)) : nil,
                               output: y.baseAddress!, accumulate: accumulate, scratch: scratch)
            }
        }
        let maxError = zip(fast, reference).map { abs($0 - $1) }.max()!
        return maxError / reference.map(abs).max()!
    }

    /// Winograd F(4×4, 3×3) against the direct convolution: within 1e-4 of the output's scale (measured:
    /// about 1e-5 at 128 to 512 input channels) over widths and heights that are not multiples of the 4×4
    /// tile (tiles past the edge), images narrower than one vector of 8 tiles and wider than one work unit
    /// of 32, output channels that do not fill the last block of 6, and the folded upsampling, GroupNorm +
    /// swish and accumulation.
    func testWinogradMatchesDirectConvolution() throws {
        let cases: [(cin: Int, cout: Int, height: Int, width: Int, upsampled: Bool, normalized: Bool, accumulate: Bool)] = [
            (3, 5, 7, 9, false, false, false),
            (16, 16, 13, 11, false, false, true),
            (8, 3, 1, 1, false, false, false),
            (5, 7, 2, 3, false, false, false),
            (24, 13, 37, 29, false, false, false),
            (32, 8, 12, 34, true, false, false),
            (32, 32, 18, 22, true, true, false),
            (64, 64, 32, 32, false, true, true),
            (64, 40, 9, 150, false, true, false),
            (128, 128, 36, 36, false, true, false),
            (128, 3, 40, 40, false, true, false),
            (256, 128, 20, 24, false, false, true),
            (512, 512, 16, 16, false, false, false),
        ]
        for (i, c) in cases.enumerated() {
            let error = try winogradError(cin: c.cin, cout: c.cout, height: c.height, width: c.width, upsampled: c.upsampled,
                                          normalized: c.normalized, accumulate: c.accumulate, seed: UInt64(i + 1))
            XCTAssertLessThanOrEqual(error, 1e-4, "\(c)")
            print("Winograd vs direct \(c): max |Δ| / max |y| = \(error)")
        }
    }

    /// The decode with Winograd convolutions against the all-direct reference on the tiny case's weights
    /// (its 32 × 32 level and conv_out take the Winograd path).
    func testWinogradDecodeMatchesDirectDecode() throws {
        let decoder = try ConformanceCase("c2i-tiny-8x8").vq()
        XCTAssertNotNil(decoder.weights.convOut.winograd)
        XCTAssertNil(decoder.weights.convIn.winograd)
        let tokens = (0..<64).map { ($0 * 37) % decoder.codebookSize }
        let fast = try decoder.decode(tokens: tokens, height: 8, width: 8, winograd: true)
        let reference = try decoder.decode(tokens: tokens, height: 8, width: 8, winograd: false)
        let maxError = zip(fast.data, reference.data).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(maxError, 1e-4)
        print("tiny decode, Winograd vs direct: max |Δ| \(maxError)")
    }

    /// Times full-size VQ-16 decodes (16×16 tokens → 256×256) with random weights, on the Winograd path and
    /// on the direct reference, and compares the two images. Slow in debug builds, so it runs only when
    /// ZIPAR_VQ_BENCH is set (to the number of timed decodes per path, 5 if not a number):
    /// `ZIPAR_VQ_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter VQ16`.
    func testVQ16FullSizeDecodeTiming() throws {
        let setting = ProcessInfo.processInfo.environment["ZIPAR_VQ_BENCH"]
        try XCTSkipUnless(setting != nil, "set ZIPAR_VQ_BENCH=1 to time")
        let repeats = max(Int(setting!) ?? 5, 1)
        let decoder = try VQDecoder(randomFor: .vq16, seed: 42)
        let tokens = (0..<256).map { ($0 * 7919) % 16384 }
        let gflop = decoder.decodeFlops(height: 16, width: 16).total / 1e9
        var images: [VQImage] = []
        for winograd in [true, false] {
            var image = try decoder.decode(tokens: tokens, height: 16, width: 16, winograd: winograd)
            var times: [Double] = []
            for _ in 0..<repeats {
                let start = Date()
                image = try decoder.decode(tokens: tokens, height: 16, width: 16, winograd: winograd)
                times.append(Date().timeIntervalSince(start))
            }
            XCTAssertEqual([image.height, image.width], [256, 256])
            XCTAssertTrue(image.data.allSatisfy(\.isFinite))
            images.append(image)
            let median = times.sorted()[times.count / 2]
            print(String(format: "VQ-16 256×256 decode, %@: median %.3f s, best %.3f s (%.0f GFLOP/s at the median) of %@ s",
                         winograd ? "Winograd" : "direct", median, times.min()!, gflop / median,
                         times.map { String(format: "%.3f", $0) }.joined(separator: ", ")))
        }
        let maxError = zip(images[0].data, images[1].data).map { abs($0 - $1) }.max()!
        let scale = images[1].data.map(abs).max()!
        XCTAssertLessThanOrEqual(maxError, 1e-4 * max(scale, 1))
        print("VQ-16 Winograd vs direct: max |Δ| \(maxError) (image max |x| \(scale))")
    }
}
