import Foundation
import XCTest

/// Numeric flags refuse NaN, infinities and out-of-range values with one line naming the flag, before any
/// work and without writing a file; every subcommand's --help renders cleanly.
extension CLITests {
    func testNumericFlagsRefuseNonsense() throws {
        let cases: [([String], String)] = [
            (["generate", "--cfg-scale", "nan"], "--cfg-scale nan"),
            (["generate", "--cfg-scale", "inf"], "--cfg-scale inf"),
            (["generate", "--cfg-scale=-2"], "--cfg-scale -2.0"),
            (["generate", "--temperature", "nan"], "--temperature nan"),
            (["generate", "--temperature", "inf"], "--temperature inf"),
            (["generate", "--temperature=-1"], "--temperature -1.0"),
            (["generate", "--top-p", "0"], "--top-p 0.0"),
            (["generate", "--top-p", "1.5"], "--top-p 1.5"),
            (["generate", "--top-p", "nan"], "--top-p nan"),
            (["generate", "--top-k=-1"], "--top-k -1"),
            (["generate", "--seed", "18446744073709551616"], "--seed"),
            (["generate", "--seed=-1"], "--seed"),
            (["generate", "--window", "0", "--schedule", "zipar"], "--window"),
            (["generate", "--window", "99", "--schedule", "zipar"], "--window"),
            (["generate", "--min-window", "0", "--schedule", "zipar-adaptive"], "--min-window"),
            (["generate", "--verify-window", "0", "--schedule", "zipar-lossless"], "--verify-window"),
            (["generate", "--verify-window", "145", "--schedule", "zipar-lossless"], "--verify-window"),
            (["generate", "--draft-lag", "13", "--schedule", "zipar-lossless"], "--draft-lag"),
            (["generate", "--draft-rows=-1", "--schedule", "zipar-lossless"], "--draft-rows"),
            (["generate", "--draft-rows", "2", "--schedule", "zipar"], "--draft-rows"),
            (["lossless-check", "--seeds", "0"], "--seeds 0"),
            (["lossless-check", "--samples", "10"], "--samples 10"),
            (["lossless-check", "--greedy", "--windows", "0"], "--windows"),
            (["lossless-check", "--oracle", "--lags", "x"], "--lags"),
            (["bench", "--pass-inputs", "0"], "--pass-inputs"),
            (["generate", "--columns", "0", "--class-label", "AB"], "--columns 0"),
            (["generate", "--batch-size", "0"], "--batch-size 0"),
            (["generate", "--cfg-interval=-2"], "--cfg-interval -2"),
            (["generate", "--gpt-model", "GPT-B", "--random-weights", "1", "--image-size", "100000"], "--image-size 100000"),
            (["generate", "--gpt-model", "GPT-B", "--random-weights", "1", "--image-size=-16"], "--image-size -16"),
            (["generate", "--gpt-model", "GPT-B", "--random-weights", "1", "--num-classes", "0"], "--num-classes 0"),
            (["eval", "--per-class", "0"], "--per-class 0"),
            (["eval", "--per-class", "1000000"], "--per-class 1000000"),
            (["eval", "--batch-size=-3"], "--batch-size -3"),
            (["eval", "--per-class", "1", "--temperature", "nan"], "--temperature nan"),
            (["bench", "--repeats", "0"], "--repeats 0"),
            (["bench", "--repeats", "1000000000"], "--repeats 1000000000"),
            (["bench", "--warmup=-1"], "--warmup -1"),
            (["bench", "--image-size", "65536"], "--image-size 65536"),
            (["serve", "--port", "70000"], "--port 70000"),
            (["serve", "--parallel", "0"], "--parallel 0"),
            (["serve", "--max-queue=-1"], "--max-queue -1"),
            (["serve", "--max-n", "0"], "--max-n 0"),
            (["serve", "--max-body", "10"], "--max-body 10"),
            (["serve", "--timeout", "nan"], "--timeout nan"),
            (["serve", "--timeout=-1"], "--timeout -1.0"),
            (["serve", "--cors-origin", "ftp://example.com"], "--cors-origin ftp://example.com"),
            (["serve", "--jobs-db", "mysql://localhost/zipar"], "--jobs-db mysql://localhost/zipar"),
            (["serve", "--job-lease", "1"], "--job-lease 1.0"),
            (["serve", "--shutdown-timeout=-5"], "--shutdown-timeout -5.0"),
            (["serve", "--jobs-db", "postgres://localhost/zipar?sslmode=verify"], "--jobs-db postgres://localhost/zipar?sslmode=verify"),
        ]
        for (args, flag) in cases { try expectFailure(args, mentions: flag) }
    }

    func testHelpTextsRenderCleanly() throws {
        for command in ["generate", "eval", "decode", "inspect", "load", "bench", "lossless-check", "serve"] {
            let (status, out, _) = try runCapturing([command, "--help"])
            let text = String(decoding: out, as: UTF8.self)
            XCTAssertEqual(status, 0, command)
            XCTAssertTrue(text.contains("USAGE"), "\(command): \(text)")
            XCTAssertFalse(text.contains("\\"), "\(command) --help has a stray backslash: \(text)")
        }
    }
}
