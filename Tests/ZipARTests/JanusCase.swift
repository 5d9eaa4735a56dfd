import Foundation
@testable import ZipAR

/// A Janus conformance case made by tools/janus/make_janus_cases.py with transformers (tiny random
/// weights, float32, greedy): the saved model folder, the prompt and its token ids, and runs per schedule.
struct JanusCase {
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
        let key_layout: String
        let prompt: String
        let input_ids: [Int]
        let uncond_input_ids: [Int]
        let grid: Int
        let image_size: Int?
        let runs: [Run]
    }

    let name: String
    let directory: URL
    let info: Info
    let expected: Checkpoint

    static var root: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("janus") }

    /// Every case; an error when there are none (a test over no case must not pass).
    static func all() throws -> [JanusCase] {
        let cases = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted().map { try JanusCase($0) }
        guard cases.count >= 5 else { throw CheckpointError(root.path, "expected the 5 Janus cases, found \(cases.count)") }
        return cases
    }

    init(_ name: String) throws {
        self.name = name
        directory = JanusCase.root.appendingPathComponent(name)
        info = try JSONDecoder().decode(Info.self, from: Data(contentsOf: directory.appendingPathComponent("case.json")))
        expected = try Checkpoint.open(directory.appendingPathComponent("expected.safetensors").path)
    }

    var modelDirectory: String { directory.appendingPathComponent(info.model).path }

    func load(precision: WeightPrecision = .float32) throws -> LoadedModel {
        try ModelRegistry.load(directory: modelDirectory, precision: precision, imageSize: info.image_size)
    }

    /// The schedule a run names, for a layout.
    func spec(_ run: Run, width: Int) throws -> ScheduleSpec {
        switch run.schedule {
        case "raster": return .raster
        case "zipar": return try ScheduleSpec.make(name: "zipar", width: width, window: run.window)
        default: return try ScheduleSpec.make(name: run.schedule, width: width, window: run.window)
        }
    }

    func options(_ run: Run) -> GenerationOptions {
        GenerationOptions(condition: .prompt(info.prompt), cfgScale: run.cfg_scale, sampling: SamplingOptions(temperature: 0))
    }
}
