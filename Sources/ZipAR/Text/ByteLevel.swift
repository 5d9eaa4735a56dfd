/// GPT-2's reversible map between the 256 byte values and printable Unicode scalars, in which byte-level
/// BPE vocabularies write their tokens (the space byte is "Ġ", newline "Ċ").
enum ByteLevel {
    /// The scalar that stands for each byte value.
    static let scalarOfByte: [Unicode.Scalar] = {
        let printable = Set(Array(33...126) + Array(161...172) + Array(174...255))
        var next: UInt32 = 256
        return (0..<256).map { byte in
            if printable.contains(byte) { return Unicode.Scalar(UInt8(byte)) }
            defer { next += 1 }
            return Unicode.Scalar(next)!
        }
    }()

    private static let byteOfScalar: [UInt32: UInt8] = {
        var map = [UInt32: UInt8]()
        for (byte, scalar) in scalarOfByte.enumerated() { map[scalar.value] = UInt8(byte) }
        return map
    }()

    /// The bytes a vocabulary token stands for, or nil if it has a scalar outside the map.
    static func bytes(of token: String) -> [UInt8]? {
        var bytes = [UInt8]()
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byteOfScalar[scalar.value] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// The split regex of `ByteLevel(use_regex: true)`: GPT-2's, in Oniguruma syntax.
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
}
