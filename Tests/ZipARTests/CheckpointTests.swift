import XCTest
@testable import ZipAR
