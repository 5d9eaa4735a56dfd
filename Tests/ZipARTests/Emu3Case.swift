import Foundation
@testable import ZipAR

/// An Emu3 conformance case made by tools/emu3/make_emu3_cases.py from transformers' Emu3 (tiny random
/// weights, float32, greedy): the model folder, the prompts, their ids and the runs, and each run's
/// per-cell logits of both branches from transformers' model called pass by pass.
struct Emu3Case {
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
        let prompt: String
        /// nil: Emu3's default negative prompt.
        let negative_prompt: String?
        let height: Int
        let width: Int
        let input_ids: [Int]
        let negative_input_ids: [Int]
        let new_keys: Bool
        let runs: [Run]
    }

    let name: String
    let directory: URL
    let info: Info
    let expected: Checkpoint

    static var root: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("emu3") }

    /// Every case; an error when there are fewer than the 3 made (a test over no case must not pass).
    static func all() throws -> [Emu3Case] {
        let names = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix("emu3-") }.sorted()
        guard names.count >= 3 else { throw CheckpointError(root.path, "expected the 3 Emu3 cases, found \(names.count)") }
        return try names.map { try Emu3Case($0) }
    }

    init(_ name: String) throws {
        self.name = name
        directory = Emu3Case.root.appendingPathComponent(name)
        info = try JSONDecoder().decode(Info.self, from: Data(contentsOf: directory.appendingPathComponent("case.json")))
        expected = try Checkpoint.open(directory.appendingPathComponent("expected.safetensors").path)
    }

    var modelDirectory: String { directory.appendingPathComponent(info.model).standardizedFileURL.path }

    /// The case's model with its negative prompt, and its decoder.
    func loadWithDecoder() throws -> (model: Emu3Model, decoder: Emu3VQDecoder) {
        let loaded = try Emu3Model.load(directory: modelDirectory, height: info.height, width: info.width)
        if let negative = info.negative_prompt { loaded.model.negativePrompt = negative }
        return loaded
    }

    /// The case's model with its negative prompt.
    func load() throws -> Emu3Model { try loadWithDecoder().model }

    func spec(_ run: Run) throws -> ScheduleSpec {
        run.schedule == "raster" ? .raster : try ScheduleSpec.make(name: run.schedule, width: info.width, window: run.window, lineEnd: true)
    }

    func options(_ run: Run) -> GenerationOptions {
        GenerationOptions(condition: .prompt(info.prompt), cfgScale: run.cfg_scale, sampling: SamplingOptions(temperature: 0))
    }
}
