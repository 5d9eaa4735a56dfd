import Foundation

/// Held-out captions a text-to-image glyph model is scored on (`eval_captions.json` in the shipped text
/// model's folder, written by tools/textglyphs/export_text.py): the palette the captions name and, per
/// caption, the prompt and what it asks for (the character, the glyph and background colour names).
public struct EvalCaptions: Codable, Sendable {
    public struct Caption: Codable, Sendable {
        public var prompt: String
        public var char: String
        public var fg: String
        public var bg: String
    }

    public var palette: [Palette.Color]
    public var captions: [Caption]

    /// Most captions a file may hold.
    public static let maxCaptions = 100_000

    /// Reads and checks `path`: a valid palette, and every caption's colours named in it and its character
    /// one of `labels` (the classifier's classes, class k = labels[k]). Errors name the file and the entry.
    public static func read(_ path: String, labels: String) throws -> EvalCaptions {
        let file = try ModelFiles.decodeJSON(EvalCaptions.self, at: path)
        try Palette(colors: file.palette).validate(file: path)
        guard (1...maxCaptions).contains(file.captions.count) else {
            throw CheckpointError(path, "captions: 1 to \(maxCaptions) expected, found \(file.captions.count)")
        }
        let palette = Palette(colors: file.palette)
        for (i, c) in file.captions.enumerated() {
            guard c.char.count == 1, labels.contains(c.char) else {
                throw CheckpointError(path, "captions[\(i)].char \(quoted(c.char)) is not one of the classifier's classes \(labels)")
            }
            for name in [c.fg, c.bg] where palette.index(of: name) == nil {
                throw CheckpointError(path, "captions[\(i)]: colour \(quoted(name)) is not in the palette")
            }
        }
        return file
    }

    /// The first `count` captions as images to draw: caption i with seed `seed + i`, its character as the
    /// classifier class in `labels` (−1, never right, for one that is not: `read` refuses those), its
    /// colours as palette indices.
    public func images(count: Int, labels: String, cfgScale: Float, sampling: SamplingOptions, seed: UInt64) -> [EvaluationImage] {
        let palette = Palette(colors: self.palette), classes = Array(labels)
        return captions.prefix(count).enumerated().map { i, c in
            EvaluationImage(options: GenerationOptions(condition: .prompt(c.prompt), cfgScale: cfgScale, sampling: sampling,
                                                       seed: seed &+ UInt64(i)),
                            label: c.char.first.flatMap { classes.firstIndex(of: $0) } ?? -1, glyph: palette.index(of: c.fg),
                            background: palette.index(of: c.bg))
        }
    }
}
