import XCTest
@testable import ZipAR

/// The sampler is right, not only raster's twin (`LosslessChiSquare`): zipar-lossless's grids follow the
/// exact raster joint of a tiny model, and the deliberately broken variants fail. 40,000 samples here
/// (the broken variants fail by orders of magnitude); CI runs the 200,000 of the issue in release
/// (`zipar lossless-check --chi-square`).
final class LosslessChiSquareTests: XCTestCase {
    func testLosslessSamplesFollowTheRasterJoint() throws {
        let test = try LosslessChiSquare()
        XCTAssertEqual(test.joint.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertGreaterThan(test.joint.max()! / test.joint.min()!, 20, "the joint must be far from uniform for the test to see anything")
        XCTAssertEqual(LosslessChiSquare.critical(80), 124.84, accuracy: 0.6)
        for variant in LosslessChiSquare.Variant.allCases {
            let r = try test.run(variant, samples: 40_000)
            XCTAssertEqual(r.passes, variant == .lossless, "\(variant): χ² \(r.chiSquare) on \(r.degreesOfFreedom) dof, critical \(r.critical)")
        }
    }
}
