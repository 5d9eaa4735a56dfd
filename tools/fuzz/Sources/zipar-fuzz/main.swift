// One libFuzzer executable for every parser; ZIPAR_FUZZ_TARGET picks which one an input goes to.
// Each target feeds the bytes to the parser the way `zipar` would read a downloaded file, then touches
// what it returned (every tensor's elements, every archive member's bytes), so that AddressSanitizer
// sees any read outside the file. Errors are the expected outcome for most inputs and are ignored;
// a trap, a sanitizer report, a hang or an allocation past libFuzzer's limits is a finding.
import Foundation
@testable import ZipAR

/// The fuzz targets by name.
let targets: [String: (URL) throws -> Void] = [
    "safetensors": { url in touch(try Safetensors.read(MappedFile(path: url.path))) },
    "zip": { url in
        let archive = try ZipArchive(MappedFile(path: url.path))
        for entry in archive.entries { if let bytes = try? archive.data(entry.name) { _ = bytes.reduce(0, &+) } }
        touch(try TorchCheckpoint.read(MappedFile(path: url.path)))
    },
    "pickle": { url in
        let file = try MappedFile(path: url.path)
        var unpickler = Unpickler(file.bytes, path: url.path, entry: "archive/data.pkl")
        _ = try withExtendedLifetime(file) { try unpickler.load() }
    },
    "png": { url in
        let file = try MappedFile(path: url.path)
        var bytes = withExtendedLifetime(file) { Array(file.bytes) }
        // The raw input as deflate data too, so that every mutation reaches the inflater.
        _ = try? Inflate.zlib([0x78, 0x9C] + bytes, limit: 1 << 20)
        // Chunk CRCs made right (libpng's fuzzer ignores them likewise), so that mutations inside a chunk
        // reach the decoder instead of stopping at its CRC check.
        fixChunkCRCs(&bytes)
        _ = try PNG.decode(bytes, path: url.path)
    },
    "config": { url in
        let dir = url.deletingLastPathComponent().path
        try? ModelFiles.config(GPTConfig.self, in: dir).validate(file: url.path)
        try? ModelFiles.config(VQConfig.self, in: dir).validate(file: url.path)
        try? ModelFiles.decodeJSON(GenerationConfig.self, at: url.path).validate(file: url.path)
        _ = try? JanusConfig.read(directory: dir)
        _ = try? LuminaConfig.read(directory: dir)
    },
    "tokens": { url in _ = try TokenFile.read(url.path) },
    "yaml": { url in _ = try ChameleonVQGAN.readParams(url.path) },
    "tokenizer": { url in
        let tokenizer = try BPETokenizer(contentsOf: url.path)
        _ = tokenizer.encode("A photo of a cat, <|User|> 123 héllo\n\n  world!")
    },
]

/// Rewrites each whole chunk's CRC-32 after the 8-byte PNG signature (stopping at the first chunk that
/// overruns the input).
func fixChunkCRCs(_ bytes: inout [UInt8]) {
    var p = 8
    while p + 12 <= bytes.count {
        let length = bytes[p..<p + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length <= bytes.count - p - 12 else { return }
        let crc = Checksum.crc32(bytes[p + 4..<p + 8 + length])
        for k in 0..<4 { bytes[p + 8 + length + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * k)) }
        p += 12 + length
    }
}

/// Reads every element of every tensor small enough to read quickly.
func touch(_ checkpoint: Checkpoint) {
    for entry in checkpoint.tensors.values where entry.count <= 1 << 16 { _ = entry.floats().reduce(0, +) }
}

let target = ProcessInfo.processInfo.environment["ZIPAR_FUZZ_TARGET"] ?? ""
/// Inputs are written here (as config.json, which the config target's folder readers expect).
let scratch: URL = {
    let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("zipar-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("config.json")
}()

/// Runs one input through the chosen target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let run = targets[target] else {
        fputs("set ZIPAR_FUZZ_TARGET to one of \(targets.keys.sorted().joined(separator: ", "))\n", stderr)
        exit(2)
    }
    _ = FileManager.default.createFile(atPath: scratch.path, contents: data.map { Data(bytes: $0, count: size) } ?? Data())
    _ = try? run(scratch)
    return 0
}

/// libFuzzer's entry point for a driver that has its own main (SwiftPM gives executables theirs).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
