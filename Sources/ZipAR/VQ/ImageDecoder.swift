/// A family's image decoder: token grid (VQ codes, raster order) → float image in [−1, 1].
public protocol ImageDecoder: AnyObject, Sendable {
    /// Codes in the codebook.
    var codebookSize: Int { get }
    /// Pixels per token along each side.
    var downsample: Int { get }
    /// Bytes of the decoder's weights held in memory.
    var byteCount: Int { get }
    func decode(tokens: [Int], height: Int, width: Int) throws -> VQImage
}

extension VQDecoder: ImageDecoder {}
