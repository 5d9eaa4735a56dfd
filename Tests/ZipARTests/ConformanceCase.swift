import Foundation
import XCTest
@testable import ZipAR

/// A conformance case folder (copied from shared/conformance/cases into the test fixtures).
struct ConformanceCase {
    struct Run: Decodable {
        let scheduler: String
        let window: Int
        let cfg_scale: Float
        let tokens: [Int]
        let forward_passes: Int
        let image: String
        var key: String { "\(scheduler)_w\(window)_cfg\(String(format: "%.1f", cfg_scale))" }
    }
    struct Info: Decodable {
        let class_label: Int
        let grid: Int
        let runs: [Run]
    }

    let name: String
    let directory: URL
    let info: Info
    let expected: Checkpoint

    static var root: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("conformance") }

    static func all() throws -> [ConformanceCase] {
        try FileManager.default.contentsOfDirectory(atPath: root.path).sorted().map { try ConformanceCase($0) }
    }

    init(_ name: String) throws {
        self.name = name
        directory = ConformanceCase.root.appendingPathComponent(name)
        info = try JSONDecoder().decode(Info.self, from: Data(contentsOf: directory.appendingPathComponent("case.json")))
        expected = try Checkpoint.open(directory.appendingPathComponent("expected.safetensors").path)
    }

    func gpt() throws -> GPT { try ModelFiles.loadGPT(directory: directory.appendingPathComponent("gpt").path) }
    func vq() throws -> VQDecoder { try ModelFiles.loadVQ(directory: directory.appendingPathComponent("vq").path) }

    func schedule(for run: Run, layout: SequenceLayout) -> any DecodingSchedule {
        run.scheduler == "raster" ? RasterSchedule(layout: layout)
            : ZipARReferenceSchedule(layout: layout, window: run.window)
    }
}

/// Greedy options for a run (the reference cases are greedy).
func greedy(_ label: Int, cfg: Float) -> GenerationOptions {
    GenerationOptions(classLabel: label, cfgScale: cfg, sampling: SamplingOptions(temperature: 0))
}

extension ImageGenerator {
    /// The layout of a class-conditional model (the same for every label).
    var layout: SequenceLayout { (model as! GPT).layout }
}
