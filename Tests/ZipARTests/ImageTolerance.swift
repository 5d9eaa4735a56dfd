import Foundation
import XCTest
@testable import ZipAR

/// The conformance tolerance for a decoded image against a reference case: decoder floats within 1e-3 of
/// `want`, and the pixels under `mapping` within 2 of the reference PNG at `png`, at most 0.5 % of channels
/// off by more than 1.
func assertImageMatches(_ image: VQImage, want: [Float], png: String, mapping: PixelMapping, _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(image.data.count, want.count, label, file: file, line: line)
    XCTAssertLessThanOrEqual(zip(image.data, want).map { abs($0 - $1) }.max()!, 1e-3, label, file: file, line: line)
    let reference = try readPNG(png)
    let diffs = zip(image.rgbImage(mapping: mapping).pixels, reference.pixels).map { abs(Int($0) - Int($1)) }
    XCTAssertLessThanOrEqual(diffs.max()!, 2, "\(label) PNG", file: file, line: line)
    XCTAssertLessThanOrEqual(Double(diffs.filter { $0 > 1 }.count), 0.005 * Double(diffs.count), "\(label) PNG", file: file, line: line)
}
