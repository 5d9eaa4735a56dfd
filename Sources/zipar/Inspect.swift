import ArgumentParser
import ZipAR

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a checkpoint's tensors: name, dtype, shape (safetensors or PyTorch .pt).")

    @Argument(help: ArgumentHelp("The weight file.", valueName: "file"))
    var file: String

    func run() throws {
        let checkpoint = try Checkpoint.open(file)
        var total = 0
        for name in checkpoint.names {
            let t = checkpoint.tensors[name]!
            total += t.count
            print("\(name)\t\(t.dtype.rawValue)\t[\(t.shape.map(String.init).joined(separator: ", "))]")
        }
        print("\(checkpoint.tensors.count) tensors, \(total) elements")
    }
}
