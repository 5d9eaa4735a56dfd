import Foundation
import XCTest
@testable import ZipAR

private func conformanceCase(_ name: String) -> URL {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("conformance/\(name)")
}

private struct CaseFile: Decodable {
    struct Run: Decodable {
        let scheduler: String
        let window: Int
        let cfg_scale: Double
        let tokens: [Int]
        let image: String
    }
    let grid: Int
    let runs: [Run]
}

private func loadDecoder(_ caseURL: URL) throws -> VQDecoder {
    let vq = caseURL.appendingPathComponent("vq")
    let config = try JSONDecoder().decode(VQConfig.self, from: Data(contentsOf: vq.appendingPathComponent("config.json")))
    let weights = ["model.safetensors", "model.pt"].map { vq.appendingPathComponent($0).path }
        .first { FileManager.default.fileExists(atPath: $0) }!
    return try VQDecoder(config: config, checkpoint: Checkpoint.open(weights))
}

final class VQDecoderTests: XCTestCase {
    /// Float tolerance against PyTorch's float32 output.
    let floatTolerance: Float = 1e-4

    /// Every run of a conformance case: the float image within `floatTolerance` of the reference, and the
    /// 8-bit pixels against the reference PNG (every value within 2, at most 0.5% off by more than 1).
    private func checkCase(_ name: String) throws {
        let dir = conformanceCase(name)
        let spec = try JSONDecoder().decode(CaseFile.self, from: Data(contentsOf: dir.appendingPathComponent("case.json")))
        let decoder = try loadDecoder(dir)
        let expected = try Checkpoint.open(dir.appendingPathComponent("expected.safetensors").path)
        XCTAssertFalse(spec.runs.isEmpty)
        for run in spec.runs {
            let key = "\(run.scheduler)_w\(run.window)_cfg\(String(format: "%.1f", run.cfg_scale))_image"
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
        let decoder = try loadDecoder(conformanceCase("c2i-tiny-8x8"))
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
        let vq = conformanceCase("c2i-tiny-8x8").appendingPathComponent("vq")
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
        XCTAssertEqual(VQImage.byte(-1), 0)
        XCTAssertEqual(VQImage.byte(-7), 0)
        XCTAssertEqual(VQImage.byte(1), 255)
        XCTAssertEqual(VQImage.byte(3), 255)
        XCTAssertEqual(VQImage.byte(0), 128)  // 127.5 + 0.5 = 128
        XCTAssertEqual(VQImage.byte(.nan), 0)
        // (x + 1) / 2 · 255 + 0.5, truncated: 0.1 → 140.75 + 0.5 → 140.
        XCTAssertEqual(VQImage.byte(0.1), 140)
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

    /// Times a full-size VQ-16 decode (16×16 tokens → 256×256) with random weights. Slow in debug builds, so
    /// it runs only when ZIPAR_VQ_BENCH is set: `ZIPAR_VQ_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter VQ16`.
    func testVQ16FullSizeDecodeTiming() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["ZIPAR_VQ_BENCH"] != nil, "set ZIPAR_VQ_BENCH=1 to time")
        let decoder = try VQDecoder(randomFor: .vq16, seed: 42)
        let tokens = (0..<256).map { ($0 * 7919) % 16384 }
        _ = try decoder.decode(tokens: tokens, height: 16, width: 16)
        var times: [Double] = []
        for _ in 0..<3 {
            let start = Date()
            let image = try decoder.decode(tokens: tokens, height: 16, width: 16)
            times.append(Date().timeIntervalSince(start))
            XCTAssertEqual([image.height, image.width], [256, 256])
            XCTAssertTrue(image.data.allSatisfy(\.isFinite))
        }
        print("VQ-16 256×256 decode: \(times.map { String(format: "%.3f", $0) }.joined(separator: ", ")) s")
    }
}
