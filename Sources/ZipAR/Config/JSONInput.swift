import Foundation

/// JSON read from a file, checked before Foundation parses it: a size cap, nesting at most `maxDepth`
/// deep (Foundation's parser traps on very deep input), and no object with the same key twice (which
/// parsers resolve differently: first wins, last wins, or an error). Errors name the file.
enum JSONInput {
    /// Deepest nesting of arrays and objects accepted; real configs and tokenizer.json nest under 10 deep.
    static let maxDepth = 64
    /// Largest JSON file read (tokenizer.json of large vocabularies is tens of MB).
    static let maxBytes = 512 << 20

    /// The bytes of the JSON file at `path`, checked.
    static func read(_ path: String) throws -> Data {
        let file = try MappedFile(path: path)
        guard file.bytes.count <= maxBytes else {
            throw CheckpointError(path, "JSON file of \(file.bytes.count) bytes is larger than the \(maxBytes >> 20) MiB accepted")
        }
        // The mapping must outlive the copy: `file` is not used after its bytes are taken.
        return try withExtendedLifetime(file) {
            try check(file.bytes, file: path)
            return Data(file.bytes)
        }
    }

    /// Checks nesting depth and duplicate keys in `bytes`; other syntax is left to the parser.
    static func check(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        /// One open array or object: for objects, the keys seen and whether a key comes next.
        struct Level { var keys: Set<String>?; var expectKey: Bool }
        var levels: [Level] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard levels.count < maxDepth else {
                    throw CheckpointError(file, "JSON nests deeper than \(maxDepth) levels (at byte \(i))")
                }
                levels.append(b == UInt8(ascii: "{") ? Level(keys: [], expectKey: true) : Level(keys: nil, expectKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = levels.popLast()
            case UInt8(ascii: ","):
                if levels.last?.keys != nil { levels[levels.count - 1].expectKey = true }
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                var escaped = false
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
                    i += 1
                }
                guard i < bytes.count else { return }  // unterminated: the parser reports it
                if let level = levels.last, level.keys != nil, level.expectKey {
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[start...i])
                    let key = escaped ? (try? JSONDecoder().decode(String.self, from: Data(raw))) ?? ""
                        : String(decoding: raw.dropFirst().dropLast(), as: UTF8.self)
                    guard levels[levels.count - 1].keys!.insert(key).inserted else {
                        throw CheckpointError(file, "JSON key \(quoted(key)) appears twice in one object (at byte \(start))")
                    }
                    levels[levels.count - 1].expectKey = false
                }
            default: break
            }
            i += 1
        }
    }
}
