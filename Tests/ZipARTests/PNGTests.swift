import Foundation
import XCTest
@testable import ZipAR

final class PNGTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("png-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testChecksums() {
        XCTAssertEqual(Checksum.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(Checksum.crc32(Array("6789".utf8), continuing: Checksum.crc32(Array("12345".utf8))), 0xCBF4_3926)
        XCTAssertEqual(Checksum.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        XCTAssertEqual(Checksum.adler32([UInt8](repeating: 255, count: 100_000)), adlerReference([UInt8](repeating: 255, count: 100_000)))
    }

    private func adlerReference(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt64 = 1, b: UInt64 = 0
        for x in bytes { a = (a + UInt64(x)) % 65521; b = (b + a) % 65521 }
        return UInt32(b << 16 | a)
    }

    /// Written, read back, identical; 200×120 RGB needs two stored deflate blocks. No temporary file stays.
    func testRoundTrip() throws {
        for (width, height) in [(1, 1), (37, 23), (200, 120)] {
            let pixels = (0..<width * height * 3).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
            let path = directory.appendingPathComponent("round-\(width)x\(height).png").path
            try writePNG(rgb: pixels, width: width, height: height, to: path)
            let image = try readPNG(path)
            XCTAssertEqual(image, RGBImage(width: width, height: height, pixels: pixels))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
                       ["round-1x1.png", "round-200x120.png", "round-37x23.png"])
    }

    func testOverwriteReplacesFile() throws {
        let path = directory.appendingPathComponent("same.png").path
        try writePNG(rgb: [1, 2, 3], width: 1, height: 1, to: path)
        try writePNG(rgb: [4, 5, 6, 7, 8, 9], width: 2, height: 1, to: path)
        XCTAssertEqual(try readPNG(path).pixels, [4, 5, 6, 7, 8, 9])
    }

    func testUnwritablePathGivesOneLineError() {
        let path = directory.appendingPathComponent("no-such-dir/out.png").path
        XCTAssertThrowsError(try writePNG(rgb: [0, 0, 0], width: 1, height: 1, to: path)) { error in
            let message = "\(error)"
            XCTAssertTrue(error is PNGError && message.hasPrefix(path) && !message.contains("\n"), message)
        }
        XCTAssertThrowsError(try writePNG(rgb: [0, 0], width: 1, height: 1, to: directory.appendingPathComponent("x.png").path))
    }

    /// A PNG written by PIL (dynamic Huffman blocks, Paeth and Sub filters), checked against values computed
    /// with Python's zlib.
    func testReadsCompressedFixture() throws {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("conformance/c2i-tiny-8x8/raster_w0_cfg1.0.png")
        let image = try readPNG(url.path)
        XCTAssertEqual([image.width, image.height], [32, 32])
        XCTAssertEqual(Array(image.pixels.prefix(6)), [87, 143, 101, 92, 130, 77])
        XCTAssertEqual(image.pixels.reduce(0) { $0 + Int($1) }, 345_163)
        XCTAssertEqual(Checksum.crc32(image.pixels), 1_399_124_900)
    }

    /// zlib.compress(b"hello hello hello hello, deflate!", 9): a fixed-Huffman block with back-references.
    func testInflateFixedHuffman() throws {
        let compressed: [UInt8] = [120, 218, 203, 72, 205, 201, 201, 87, 200, 64, 39, 117, 20, 82, 82, 211, 114, 18,
                                   75, 82, 21, 1, 207, 243, 11, 243]
        XCTAssertEqual(try Inflate.zlib(compressed, limit: 1000), Array("hello hello hello hello, deflate!".utf8))
        XCTAssertThrowsError(try Inflate.zlib(compressed, limit: 10))
        var corrupt = compressed
        corrupt[corrupt.count - 1] ^= 1
        XCTAssertThrowsError(try Inflate.zlib(corrupt, limit: 1000))
    }

    func testCorruptFilesThrow() throws {
        let png = try PNG.encode(rgb: [10, 20, 30, 40, 50, 60], width: 2, height: 1, path: "x")
        XCTAssertEqual(try PNG.decode(png, path: "x").pixels, [10, 20, 30, 40, 50, 60])
        var badCRC = png
        badCRC[20] ^= 0xFF  // inside IHDR
        XCTAssertThrowsError(try PNG.decode(badCRC, path: "x"))
        for cut in [0, 7, 20, 40, png.count - 1] {
            XCTAssertThrowsError(try PNG.decode(Array(png.prefix(cut)), path: "x"), "cut at \(cut)")
        }
        XCTAssertThrowsError(try readPNG(directory.appendingPathComponent("missing.png").path))
    }
}
