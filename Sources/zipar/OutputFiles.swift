import Foundation
import ZipAR

/// Output files are written whole or not at all: to a temporary name beside the target, then renamed.
enum OutputFiles {
    /// Fails early, before any long work, if `path`'s folder does not exist or cannot be written.
    static func checkWritable(_ path: String, flag: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw UsageError("\(flag) \(path): folder '\(folder)' does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw UsageError("\(flag) \(path): folder '\(folder)' is not writable")
        }
    }

    /// Writes `value` as JSON atomically.
    static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw UsageError("\(path): cannot write (\(error.localizedDescription))")
        }
    }
}

/// The token file of `--tokens-out` / `decode --tokens`: {"height": H, "width": W, "tokens": [...]}.
struct TokenFile: Codable {
    var height: Int
    var width: Int
    var tokens: [Int]

    static func read(_ path: String) throws -> TokenFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("\(path): cannot read token file") }
        guard let file = try? JSONDecoder().decode(TokenFile.self, from: data) else {
            throw UsageError("\(path): not a token file ({\"height\": H, \"width\": W, \"tokens\": [...]})")
        }
        guard file.height > 0, file.width > 0, file.tokens.count == file.height * file.width else {
            throw UsageError("\(path): \(file.tokens.count) tokens for a \(file.height)×\(file.width) grid")
        }
        return file
    }
}

/// Decodes tokens to pixels and writes the PNG atomically.
func writeImage(_ decoder: VQDecoder, tokens: [Int], height: Int, width: Int, to path: String) throws {
    try writePNG(try decoder.decode(tokens: tokens, height: height, width: width).rgbImage(), to: path)
}
