import CKernels

/// Winograd F(4×4, 3×3) for the decoder's 3×3 convolutions (stride 1, zero padding 1): 36 multiplies per
/// 4×4 output tile and channel pair instead of 144. The filters are transformed once at load (in double
/// precision, packed for the kernel); a call transforms input tiles, multiplies per transform position and
/// transforms back in CKernels' winograd.c, on every core. Against the direct convolution the result
/// differs by about 1e-5 relative to the output's scale (the transform's rounding), see VQDecoderTests.
enum Winograd {
    /// Smallest image, in pixels, on which Winograd is used: on 8 × 8 images of 256 channels (one work
    /// unit, one thread) im2col + sgemm is faster; from 16 × 16 up Winograd is (measured: 2× at 256
    /// channels, 5× at 64).
    static let minPixels = 16 * 16

    /// The transformed filters of `weight` ([cout, cin, 3, 3] row-major), packed for the kernel.
    static func filters(_ weight: [Float], cout: Int, cin: Int) -> [Float] {
        var u = [Float](repeating: 0, count: Int(zipar_winograd_filter_floats(Int64(cout), Int64(cin))))
        weight.withUnsafeBufferPointer { w in
            u.withUnsafeMutableBufferPointer { u in
                let (wp, up) = (w.baseAddress!, u.baseAddress!)
                parallelRanges(cout) { lo, hi in
                    zipar_winograd_filters(wp, Int64(cout), Int64(cin), Int64(lo), Int64(hi), up)
                }
            }
        }
        return u
    }

    /// Scratch floats a call needs, for all pool threads, with at most `cin` input channels and images at
    /// most `width` wide.
    static func scratchFloats(cin: Int, width: Int) -> Int {
        ComputeThreads.count * Int(zipar_winograd_scratch_floats(Int64(cin), Int64(width)))
    }

    /// output[cout, H·W] (+)= conv3x3(x) + bias with the transformed `filters`. `input` is [cin, H, W], or
    /// [cin, H/2, W/2] read as its nearest ×2 upsampling when `upsampled`; x is that, or
    /// swish(that · scale[c] + shift[c]) per input channel c when `normalize` gives scale and shift.
    static func apply(filters: [Float], bias: [Float], cin: Int, cout: Int, input: UnsafePointer<Float>,
                      height: Int, width: Int, upsampled: Bool = false,
                      normalize: (scale: UnsafePointer<Float>, shift: UnsafePointer<Float>)? = nil,
                      output: UnsafeMutablePointer<Float>, accumulate: Bool, scratch: FloatScratch) {
        precondition(scratch.count >= scratchFloats(cin: cin, width: width), "Winograd scratch too small")
        filters.withUnsafeBufferPointer { u in
            bias.withUnsafeBufferPointer { b in
                zipar_winograd_conv3x3(input, Int64(cin), Int64(height), Int64(width), upsampled ? 1 : 0,
                                       normalize?.scale, normalize?.shift, u.baseAddress!, b.baseAddress!,
                                       Int64(cout), output, accumulate ? 1 : 0, scratch.pointer)
            }
        }
    }
}
