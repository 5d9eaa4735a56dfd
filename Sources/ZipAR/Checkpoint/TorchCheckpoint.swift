/// PyTorch .pt files (torch.save's zip format): a ZIP archive whose members share one top-level folder,
/// holding data.pkl (the pickled object) and data/<key> (raw little-endian storage bytes). Tensors point
/// into the mapped archive; nothing is copied and nothing in the pickle is executed.
enum TorchCheckpoint {
    /// Keys of a training checkpoint that may hold the state dict, most preferred first.
    static let wrapperKeys = ["ema", "model", "module", "state_dict"]

    /// Reads the archive in `file`. The CRC-32 of the pickle is always checked; that of the storages (all the
    /// weights' bytes, gigabytes: seconds of reading) only with `verifyStorages`.
    static func read(_ file: MappedFile, verifyStorages: Bool = false) throws -> Checkpoint {
        let archive = try ZipArchive(file)
        guard let first = archive.entries.first, let slash = first.name.firstIndex(of: "/") else {
            throw CheckpointError(file.path, "not a PyTorch archive: its entries are not inside a top-level folder")
        }
        let folder = String(first.name[..<slash])
        let byteorder = "\(folder)/byteorder"
        if archive.contains(byteorder), String(decoding: try archive.data(byteorder, verify: true), as: UTF8.self) != "little" {
            throw CheckpointError(file.path, "only little-endian PyTorch archives are supported (\(byteorder) is not \"little\")")
        }
        let pickleName = "\(folder)/data.pkl"
        guard archive.contains(pickleName) else {
            throw CheckpointError(file.path, "not a PyTorch archive: no entry \(quoted(pickleName))")
        }
        var unpickler = Unpickler(try archive.data(pickleName, verify: true), path: file.path, entry: pickleName)
        let root = try unpickler.load()
        let stateDict = try weights(in: root, unpickler, file)

        var storageData: [Int: (UnsafeRawBufferPointer, DType)] = [:]
        var tensors: [String: TensorEntry] = [:]
        for (key, value) in zip(stateDict.keys, stateDict.values) {
            guard case let .string(name) = key, case let .tensor(t) = value else { continue }
            let tensor = unpickler.tensors[t]
            let (bytes, dtype): (UnsafeRawBufferPointer, DType)
            if let known = storageData[tensor.storage] {
                (bytes, dtype) = known
            } else {
                (bytes, dtype) = try storage(unpickler.storages[tensor.storage], tensor: name, folder: folder, archive,
                                        verify: verifyStorages)
                storageData[tensor.storage] = (bytes, dtype)
            }
            tensors[name] = try TensorEntry(name: name, dtype: dtype, shape: tensor.shape, strides: tensor.strides,
                                            offset: tensor.offset, storage: bytes, file: file)
        }
        return Checkpoint(path: file.path, tensors: tensors)
    }

    /// The dict holding the weights: under "ema", "model", "module" or "state_dict" (first that holds
    /// tensors), else the top-level dict itself.
    private static func weights(in root: PickleValue, _ unpickler: Unpickler, _ file: MappedFile) throws -> PickleDict {
        guard case let .dict(d) = root else {
            throw CheckpointError(file.path, "the pickled object is a \(root.kind), not a dict of tensors")
        }
        let top = unpickler.dicts[d]
        func holdsTensors(_ dict: PickleDict) -> Bool {
            zip(dict.keys, dict.values).contains { key, value in
                if case .string = key, case .tensor = value { return true }
                return false
            }
        }
        for key in wrapperKeys {
            if case let .dict(inner)? = top[key], holdsTensors(unpickler.dicts[inner]) { return unpickler.dicts[inner] }
        }
        if holdsTensors(top) { return top }
        let keys = top.keys.prefix(10).map { key -> String in
            if case let .string(s) = key { return quoted(s) }
            return key.kind
        }
        throw CheckpointError(file.path, "no tensors found (top-level keys: \(keys.joined(separator: ", ")))")
    }

    /// The bytes and element type of `storage`, checked to hold its recorded number of elements.
    private static func storage(_ storage: PickleStorage, tensor: String, folder: String,
                                _ archive: ZipArchive, verify: Bool) throws -> (UnsafeRawBufferPointer, DType) {
        let path = archive.file.path
        guard let dtype = dtype(ofStorage: storage.typeName) else {
            throw CheckpointError(path, "tensor \(quoted(tensor)): unsupported storage type \(quoted("torch." + storage.typeName))")
        }
        let member = "\(folder)/data/\(storage.key)"
        guard archive.contains(member) else {
            throw CheckpointError(path, "tensor \(quoted(tensor)): archive has no storage entry \(quoted(member))")
        }
        let bytes = try archive.data(member, verify: verify)
        let (needed, overflow) = storage.numel.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, needed <= bytes.count else {
            throw CheckpointError(path, "tensor \(quoted(tensor)): storage \(quoted(member)) has \(bytes.count) bytes, needs \(storage.numel) × \(dtype.size): truncated or corrupt")
        }
        return (bytes, dtype)
    }

    /// The element type of a torch storage class ("FloatStorage", …; "UntypedStorage" holds bytes).
    static func dtype(ofStorage typeName: String) -> DType? {
        switch typeName {
        case "DoubleStorage": return .float64
        case "FloatStorage": return .float32
        case "HalfStorage": return .float16
        case "BFloat16Storage": return .bfloat16
        case "LongStorage": return .int64
        case "IntStorage": return .int32
        case "ShortStorage": return .int16
        case "CharStorage": return .int8
        case "ByteStorage", "UntypedStorage": return .uint8
        case "BoolStorage": return .bool
        default: return nil
        }
    }
}
