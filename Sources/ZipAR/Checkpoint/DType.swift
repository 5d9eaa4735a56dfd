/// Element types a checkpoint may hold. Names follow safetensors ("F32", "BF16", …).
public enum DType: String, Sendable, CaseIterable {
    case float64 = "F64", float32 = "F32", float16 = "F16", bfloat16 = "BF16"
    case int64 = "I64", int32 = "I32", int16 = "I16", int8 = "I8", uint8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// Reads element `index` of a little-endian array of this type as a Float.
    @inline(__always)
    func float(at index: Int, in p: UnsafeRawPointer) -> Float {
        switch self {
        case .float32: return Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
        case .bfloat16: return bfloat16Value(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
        case .float16: return halfToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
        case .float64: return Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))))
        case .int64: return Float(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * index, as: Int64.self)))
        case .int32: return Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * index, as: Int32.self)))
        case .int16: return Float(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * index, as: Int16.self)))
        case .int8: return Float(p.load(fromByteOffset: index, as: Int8.self))
        case .uint8, .bool: return Float(p.load(fromByteOffset: index, as: UInt8.self))
        }
    }
}

/// IEEE 754 half precision bits to Float (subnormals, infinities and NaN included).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int(h >> 10) & 0x1f
    let mant = UInt32(h & 0x3ff)
    if exp == 0 {
        // zero or subnormal: mant · 2^-24
        let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | UInt32(exp + 112) << 23 | (mant << 13))
}
