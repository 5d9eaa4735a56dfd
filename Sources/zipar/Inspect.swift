import ArgumentParser
import ZipAR

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a checkpoint's tensors: name, dtype, shape (safetensors or PyTorch .pt).")

    @Argument(help: ArgumentHelp("The weight file.", valueName: "file"))
    var file: String

    @Flag(help: "Also check the CRC-32 of every storage of a .pt archive (its pickle's is always checked).")
    var verify = false

    func run() throws {
        let checkpoint = try Checkpoint.open(file, verify: verify)
        var total = 0
        for name in checkpoint.names {
            let t = checkpoint.tensors[name]!
            let (sum, overflow) = total.addingReportingOverflow(t.count)
            total = overflow ? .max : sum
            print("\(name)\t\(t.dtype.rawValue)\t[\(t.shape.map(String.init).joined(separator: ", "))]")
        }
        print("\(checkpoint.tensors.count) tensors, \(total) elements")
    }
}
