import Foundation
@testable import ZipAR

/// A Lumina-mGPT conformance case made by tools/lumina/make_lumina_cases.py from the authors' code (the
/// released Lumina-mGPT-ZipAR code for zipar-reference, upstream Lumina-mGPT for raster; tiny random
/// weights, float32, greedy): the shared model and VQGAN folders, the prompt, its ids and runs.
struct LuminaCase {
    struct Run: Decodable {
        let schedule: String
        let window: Int
        let cfg_scale: Float
        let tokens: [Int]
        let forward_passes: Int
        let image: String
        var key: String { "\(schedule)_w\(window)_cfg\(String(format: "%.1f", cfg_scale))" }
    }
    struct Info: Decodable {
        let model: String
        let vq: String
        let prompt: String
        let image_size: Int
        let input_ids: [Int]
        let header: [Int]
        let uncond_input_ids_zipar: [Int]
        let height: Int
        let width: Int
        let runs: [Run]
    }

    let name: String
    let directory: URL
    let info: Info
    let expected: Checkpoint

    static var root: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("lumina") }

    /// Every case; an error when there are fewer than the 3 made (a test over no case must not pass).
    static func all() throws -> [LuminaCase] {
        let names = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix("lumina-") }.sorted()
        guard names.count >= 3 else { throw CheckpointError(root.path, "expected the 3 Lumina cases, found \(names.count)") }
        return try names.map { try LuminaCase($0) }
    }

    init(_ name: String) throws {
        self.name = name
        directory = LuminaCase.root.appendingPathComponent(name)
        info = try JSONDecoder().decode(Info.self, from: Data(contentsOf: directory.appendingPathComponent("case.json")))
        expected = try Checkpoint.open(directory.appendingPathComponent("expected.safetensors").path)
    }

    var modelDirectory: String { directory.appendingPathComponent(info.model).standardizedFileURL.path }
    var vqDirectory: String { directory.appendingPathComponent(info.vq).standardizedFileURL.path }

    func load() throws -> LoadedModel {
        try ModelRegistry.load(directory: modelDirectory, imageSize: info.image_size, decoderDirectory: vqDirectory)
    }

    func spec(_ run: Run, width: Int) throws -> ScheduleSpec {
        run.schedule == "raster" ? .raster : try ScheduleSpec.make(name: run.schedule, width: width, window: run.window, lineEnd: true)
    }

    func options(_ run: Run) -> GenerationOptions {
        GenerationOptions(condition: .prompt(info.prompt), cfgScale: run.cfg_scale, sampling: SamplingOptions(temperature: 0))
    }
}
