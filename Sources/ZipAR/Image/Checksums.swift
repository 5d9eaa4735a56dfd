/// The checksums PNG files carry: CRC-32 (ISO-HDLC, as zlib) over each chunk, Adler-32 over the zlib data.
enum Checksum {
    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 of `bytes`, continuing from `crc` (the CRC of the bytes before them; 0 to start).
    static func crc32<S: Sequence>(_ bytes: S, continuing crc: UInt32 = 0) -> UInt32 where S.Element == UInt8 {
        var c = ~crc
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    /// Adler-32 of `bytes`.
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        // 5552 bytes is the most that can be summed before b could overflow 32 bits.
        while i < bytes.count {
            let end = min(bytes.count, i + 5552)
            while i < end { a += UInt32(bytes[i]); b += a; i += 1 }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }
}
