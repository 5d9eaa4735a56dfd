/// A value produced by `Unpickler`. Containers, storages and tensors live in the unpickler's tables and
/// are referred to by index, so shared and cyclic references need no recursion to build or free.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too wide for Int; its value is not kept.
    case bigInt
    case float(Double)
    case string(String)
    /// A bytes object, by length; its contents are not kept.
    case bytes(Int)
    case tuple(Int)
    case list(Int)
    case dict(Int)
    /// A reference to a module attribute (GLOBAL / STACK_GLOBAL); nothing is imported or run.
    case global(module: String, name: String)
    /// A PyTorch storage named by a persistent id, index into `Unpickler.storages`.
    case storage(Int)
    /// A tensor rebuilt by `torch._utils._rebuild_tensor_v2`, index into `Unpickler.tensors`.
    case tensor(Int)
    /// Anything else (an object of an unknown class, a set, …), by a short description.
    case opaque(String)

    /// A short description of the value's kind, for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case let .global(module, name): return "\(module).\(name)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        case let .opaque(what): return what
        }
    }
}

/// A dict from a pickle: keys in insertion order; a repeated string key replaces the earlier value.
struct PickleDict {
    private(set) var keys: [PickleValue] = []
    private(set) var values: [PickleValue] = []
    private var stringIndex: [String: Int] = [:]

    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        if case let .string(s) = key {
            if let i = stringIndex[s] { values[i] = value; return }
            stringIndex[s] = keys.count
        }
        keys.append(key)
        values.append(value)
    }

    /// The value under the string key `key`, if any.
    subscript(key: String) -> PickleValue? {
        stringIndex[key].map { values[$0] }
    }
}

/// A storage named by a persistent id ("storage", <storage type>, key, location, numel).
struct PickleStorage {
    /// The storage type global, e.g. "FloatStorage" (module torch).
    let typeName: String
    /// The archive member is "<folder>/data/<key>".
    let key: String
    /// Elements of the storage's type it holds, as recorded in the pickle.
    let numel: Int
}

/// A strided view of a storage, in elements of the storage's type.
struct PickleTensor {
    let storage: Int
    let offset: Int
    let shape: [Int]
    let strides: [Int]
}
