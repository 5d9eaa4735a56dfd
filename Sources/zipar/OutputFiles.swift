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

/// Decodes tokens to pixels and writes the PNG atomically.
func writeImage(_ decoder: VQDecoder, tokens: [Int], height: Int, width: Int, to path: String) throws {
    try writePNG(try decoder.decode(tokens: tokens, height: height, width: width).rgbImage(), to: path)
}
