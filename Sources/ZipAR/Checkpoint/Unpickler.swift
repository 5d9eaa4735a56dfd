/// A restricted unpickler for the pickles `torch.save` writes (protocols 2 to 5). It never imports or runs
/// anything: GLOBAL yields a named reference, and only the calls that rebuild tensors and dicts are
/// interpreted; any other call or object is an opaque value. Malformed input is a `CheckpointError`
/// naming the file and the archive entry.
struct Unpickler {
    private(set) var tuples: [[PickleValue]] = []
    private(set) var lists: [[PickleValue]] = []
    private(set) var dicts: [PickleDict] = []
    private(set) var storages: [PickleStorage] = []
    private(set) var tensors: [PickleTensor] = []

    private var reader: ByteReader
    private let path: String
    private let entry: String
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Offset of the opcode being run, for error messages.
    private var opcodeOffset = 0

    /// Deepest nesting of `_rebuild_from_type_v2` calls accepted.
    private static let maxCallDepth = 16

    /// Prepares to read the pickle `bytes`, the archive entry `entry` of the file at `path`.
    init(_ bytes: UnsafeRawBufferPointer, path: String, entry: String) {
        self.reader = ByteReader(bytes, file: path)
        self.path = path
        self.entry = entry
    }

    /// Runs the pickle to its STOP and returns the value it produced.
    mutating func load() throws -> PickleValue {
        while true {
            opcodeOffset = reader.offset
            let op = try u8()
            if op == 0x2e { return try pop() }  // STOP
            try run(op)
        }
    }

    // MARK: - Opcodes

    private mutating func run(_ op: UInt8) throws {
        switch op {
        case 0x80:  // PROTO
            let version = try u8()
            guard version <= 5 else { throw fail("unsupported pickle protocol \(version)") }
        case 0x95: _ = try take(8)  // FRAME: a length hint only
        case 0x7d: push(newDict(PickleDict()))  // EMPTY_DICT
        case 0x5d: push(newList([]))  // EMPTY_LIST
        case 0x29: push(newTuple([]))  // EMPTY_TUPLE
        case 0x85: let a = try pop(); push(newTuple([a]))  // TUPLE1
        case 0x86: let b = try pop(), a = try pop(); push(newTuple([a, b]))  // TUPLE2
        case 0x87: let c = try pop(), b = try pop(), a = try pop(); push(newTuple([a, b, c]))  // TUPLE3
        case 0x74: push(newTuple(try popMark()))  // TUPLE
        case 0x6c: push(newList(try popMark()))  // LIST
        case 0x64: push(newDict(try pairs(try popMark())))  // DICT
        case 0x28: marks.append(stack.count)  // MARK
        case 0x30: _ = try pop()  // POP
        case 0x31: _ = try popMark()  // POP_MARK
        case 0x32: push(try top())  // DUP
        case 0x71: memo[Int(try u8())] = try top()  // BINPUT
        case 0x72: memo[Int(try fixed(UInt32.self))] = try top()  // LONG_BINPUT
        case 0x94: memo[memo.count] = try top()  // MEMOIZE
        case 0x68: push(try memoGet(Int(try u8())))  // BINGET
        case 0x6a: push(try memoGet(Int(try fixed(UInt32.self))))  // LONG_BINGET
        case 0x4a: push(.int(Int(try fixed(Int32.self))))  // BININT
        case 0x4b: push(.int(Int(try u8())))  // BININT1
        case 0x4d: push(.int(Int(try fixed(UInt16.self))))  // BININT2
        case 0x8a: push(long(try take(Int(try u8()))))  // LONG1
        case 0x8b: push(long(try take(try length(Int(try fixed(Int32.self))))))  // LONG4
        case 0x47: push(.float(Double(bitPattern: UInt64(bigEndian: try fixed(UInt64.self)))))  // BINFLOAT
        case 0x8c, 0x55: push(.string(try text(Int(try u8()))))  // SHORT_BINUNICODE, SHORT_BINSTRING
        case 0x58: push(.string(try text(Int(try fixed(UInt32.self)))))  // BINUNICODE
        case 0x54: push(.string(try text(try length(Int(try fixed(Int32.self))))))  // BINSTRING
        case 0x8d: push(.string(try text(try length(try fixed(UInt64.self)))))  // BINUNICODE8
        case 0x43: push(.bytes(try take(Int(try u8())).count))  // SHORT_BINBYTES
        case 0x42: push(.bytes(try take(Int(try fixed(UInt32.self))).count))  // BINBYTES
        case 0x8e: push(.bytes(try take(try length(try fixed(UInt64.self))).count))  // BINBYTES8
        case 0x96: _ = try take(try length(try fixed(UInt64.self))); push(.opaque("bytearray"))  // BYTEARRAY8
        case 0x4e: push(.none)  // NONE
        case 0x88: push(.bool(true))  // NEWTRUE
        case 0x89: push(.bool(false))  // NEWFALSE
        case 0x63: let module = try line(), name = try line(); push(try global(module, name))  // GLOBAL
        case 0x93:  // STACK_GLOBAL
            guard case let .string(name) = try pop(), case let .string(module) = try pop() else {
                throw fail("STACK_GLOBAL needs two strings")
            }
            push(try global(module, name))
        case 0x52:  // REDUCE
            let args = try pop(), callable = try pop()
            push(try call(callable, args, depth: 0))
        case 0x81:  // NEWOBJ
            _ = try pop()
            push(instance(of: try pop()))
        case 0x92:  // NEWOBJ_EX
            _ = try pop(); _ = try pop()
            push(instance(of: try pop()))
        case 0x62:  // BUILD: the state is dropped; dicts, tensors and opaque objects stay as they are
            _ = try pop()
            _ = try top()
        case 0x51: push(try persistentLoad(try pop()))  // BINPERSID
        case 0x73:  // SETITEM
            let value = try pop(), key = try pop()
            try setItems([key, value])
        case 0x75: try setItems(try popMark())  // SETITEMS
        case 0x61: try append([try pop()])  // APPEND
        case 0x65: try append(try popMark())  // APPENDS
        case 0x8f: push(.opaque("set"))  // EMPTY_SET
        case 0x90: _ = try popMark(); _ = try top()  // ADDITEMS
        case 0x91: _ = try popMark(); push(.opaque("frozenset"))  // FROZENSET
        case 0x97, 0x98: throw fail("out-of-band pickle buffers are not supported")  // NEXT_BUFFER, READONLY_BUFFER
        default:
            let printable = (0x21...0x7e).contains(op) ? " ('\(Character(UnicodeScalar(op)))')" : ""
            throw fail("unsupported pickle opcode 0x\(String(op, radix: 16))\(printable)")
        }
    }

    // MARK: - Calls and objects

    /// The globals a checkpoint may name: what rebuilds tensors and containers, and the plain data types
    /// training checkpoints carry beside the weights (argparse arguments, numpy arrays, sets). None is ever
    /// run; the list keeps a file that names anything else (`os.system`) from loading at all, as PyTorch's
    /// weights-only loader does.
    static let allowedGlobals: Set<String> = [
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type",
        "torch._tensor._rebuild_from_type_v2", "torch.Tensor", "torch.nn.parameter.Parameter", "torch.Size",
        "torch.device", "torch.float32", "torch.float16", "torch.bfloat16", "torch.float64", "torch.int64",
        "torch.int32", "torch.int16", "torch.int8", "torch.uint8", "torch.bool",
        "collections.OrderedDict", "builtins.dict", "__builtin__.dict", "builtins.set", "__builtin__.set",
        "builtins.frozenset", "__builtin__.frozenset", "builtins.bytearray", "__builtin__.bytearray",
        "_codecs.encode", "argparse.Namespace", "numpy.dtype", "numpy.ndarray",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
    ]

    /// A reference to `module.name`, refused unless it is in `allowedGlobals` or a torch storage type.
    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let known = module == "torch" && TorchCheckpoint.dtype(ofStorage: name) != nil
        guard known || Self.allowedGlobals.contains("\(module).\(name)") else {
            throw fail("the pickle names \(quoted(module + "." + name)), which is not part of a weights file; refusing to load it")
        }
        return .global(module: module, name: name)
    }

    /// Interprets `callable(*args)` for the functions that rebuild tensors and dicts; anything else is opaque.
    private mutating func call(_ callable: PickleValue, _ args: PickleValue, depth: Int) throws -> PickleValue {
        guard case let .global(module, name) = callable else { return .opaque("result of calling \(callable.kind)") }
        let function = "\(module).\(name)"
        guard case let .tuple(t) = args else { return .opaque("result of \(function)") }
        let a = tuples[t]
        switch function {
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard a.count >= 4, case let .storage(storage) = a[0], case let .int(offset) = a[1],
                  let shape = ints(a[2]), let strides = ints(a[3]), shape.count == strides.count else {
                throw fail("malformed arguments to \(function)")
            }
            tensors.append(PickleTensor(storage: storage, offset: offset, shape: shape, strides: strides))
            return .tensor(tensors.count - 1)
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let data = a.first else { throw fail("malformed arguments to \(function)") }
            return data
        case "torch._tensor._rebuild_from_type_v2", "torch._tensor._rebuild_from_type":
            guard a.count >= 3 else { throw fail("malformed arguments to \(function)") }
            guard depth < Self.maxCallDepth else { throw fail("\(function) nested too deeply") }
            return try call(a[0], a[2], depth: depth + 1)
        case "collections.OrderedDict", "builtins.dict", "__builtin__.dict":
            var dict = PickleDict()
            if let items = a.first {
                for item in try sequence(items, function) {
                    guard case let .tuple(pair) = item, tuples[pair].count == 2 else {
                        throw fail("\(function) needs (key, value) pairs")
                    }
                    dict.set(tuples[pair][0], tuples[pair][1])
                }
            }
            return newDict(dict)
        default:
            return .opaque("result of \(function)")
        }
    }

    /// `cls.__new__(cls, …)`: an empty dict for OrderedDict, an opaque object otherwise.
    private mutating func instance(of cls: PickleValue) -> PickleValue {
        if case let .global(module, name) = cls, module == "collections", name == "OrderedDict" {
            return newDict(PickleDict())
        }
        return .opaque("instance of \(cls.kind)")
    }

    /// A storage from its persistent id ("storage", <storage type>, key, location, numel); other ids are opaque.
    private mutating func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case let .tuple(t) = pid, let tag = tuples[t].first, case .string("storage") = tag else {
            return .opaque("persistent object \(pid.kind)")
        }
        let fields = tuples[t]
        guard fields.count >= 5, case let .global("torch", typeName) = fields[1], case let .int(numel) = fields[4], numel >= 0
        else { throw fail("malformed storage persistent id") }
        let key: String
        switch fields[2] {
        case let .string(s): key = s
        case let .int(i): key = String(i)
        default: throw fail("malformed storage key in persistent id")
        }
        storages.append(PickleStorage(typeName: typeName, key: key, numel: numel))
        return .storage(storages.count - 1)
    }

    private mutating func setItems(_ items: [PickleValue]) throws {
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
        switch try top() {
        case let .dict(d):
            for i in stride(from: 0, to: items.count, by: 2) { dicts[d].set(items[i], items[i + 1]) }
        case .opaque: break
        case let other: throw fail("cannot set items on \(other.kind)")
        }
    }

    private mutating func append(_ items: [PickleValue]) throws {
        switch try top() {
        case let .list(l): lists[l].append(contentsOf: items)
        case .opaque: break
        case let other: throw fail("cannot append to \(other.kind)")
        }
    }

    // MARK: - Values

    private mutating func newTuple(_ items: [PickleValue]) -> PickleValue { tuples.append(items); return .tuple(tuples.count - 1) }
    private mutating func newList(_ items: [PickleValue]) -> PickleValue { lists.append(items); return .list(lists.count - 1) }
    private mutating func newDict(_ dict: PickleDict) -> PickleValue { dicts.append(dict); return .dict(dicts.count - 1) }

    /// The items of a tuple or list.
    private func sequence(_ value: PickleValue, _ context: String) throws -> [PickleValue] {
        switch value {
        case let .tuple(t): return tuples[t]
        case let .list(l): return lists[l]
        default: throw fail("\(context) needs a tuple or list, got \(value.kind)")
        }
    }

    /// A tuple or list of ints as [Int], else nil.
    private func ints(_ value: PickleValue) -> [Int]? {
        let items: [PickleValue]
        switch value {
        case let .tuple(t): items = tuples[t]
        case let .list(l): items = lists[l]
        default: return nil
        }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case let .int(i) = item else { return nil }
            out.append(i)
        }
        return out
    }

    private func pairs(_ items: [PickleValue]) throws -> PickleDict {
        guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
        var dict = PickleDict()
        for i in stride(from: 0, to: items.count, by: 2) { dict.set(items[i], items[i + 1]) }
        return dict
    }

    /// A little-endian two's-complement integer (LONG1 / LONG4).
    private func long(_ bytes: UnsafeRawBufferPointer) -> PickleValue {
        guard let last = bytes.last else { return .int(0) }
        let fill: UInt8 = last & 0x80 != 0 ? 0xff : 0
        if bytes.count > 8 {
            // Wider than 64 bits: fits only when the extra bytes merely extend the sign of byte 7.
            let signOfLow: UInt8 = bytes[7] & 0x80 != 0 ? 0xff : 0
            guard bytes[8...].allSatisfy({ $0 == fill }), signOfLow == fill else { return .bigInt }
        }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(i < bytes.count ? bytes[i] : fill) << (8 * UInt64(i)) }
        return .int(Int(Int64(bitPattern: v)))
    }

    // MARK: - Stack and memo

    private mutating func push(_ v: PickleValue) { stack.append(v) }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast(), stack.count >= (marks.last ?? 0) else { throw fail("pickle stack underflow") }
        return v
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("pickle stack underflow") }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast(), m <= stack.count else { throw fail("pickle MARK missing") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private func memoGet(_ i: Int) throws -> PickleValue {
        guard let v = memo[i] else { throw fail("pickle memo index \(i) was never stored") }
        return v
    }

    // MARK: - Bytes

    private func fail(_ message: String) -> CheckpointError {
        CheckpointError(path, "\(entry): \(message) (at byte \(opcodeOffset))")
    }

    private mutating func u8() throws -> UInt8 {
        guard reader.remaining >= 1 else { throw fail("pickle truncated") }
        return try reader.u8()
    }

    private mutating func fixed<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard reader.remaining >= MemoryLayout<T>.size else { throw fail("pickle truncated") }
        return try reader.uint(type)
    }

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= reader.remaining else { throw fail("pickle truncated (needs \(n) bytes, \(reader.remaining) left)") }
        return try reader.take(n)
    }

    /// A length field checked to be non-negative and within the pickle.
    private func length<T: BinaryInteger>(_ n: T) throws -> Int {
        guard n >= 0, n <= reader.remaining else { throw fail("pickle truncated (length \(n), \(reader.remaining) bytes left)") }
        return Int(n)
    }

    private mutating func text(_ n: Int) throws -> String {
        String(decoding: try take(n), as: UTF8.self)
    }

    /// A newline-terminated line (GLOBAL's module and name).
    private mutating func line() throws -> String {
        let start = reader.offset
        var end = start
        while end < reader.bytes.count, reader.bytes[end] != 0x0a { end += 1 }
        guard end < reader.bytes.count else { throw fail("pickle truncated in GLOBAL") }
        let s = String(decoding: try take(end - start), as: UTF8.self)
        reader.offset += 1
        return s
    }
}
