import Foundation

/// A tokenizer.json that cannot be read, is not valid, or uses what this reader does not support: the
/// same one-line file error as a weight or config file.
public typealias TokenizerError = CheckpointError

/// The parts of a Hugging Face `tokenizer.json` that encoding with a byte-level BPE reads. The decoder,
/// truncation and padding are not read. Unsupported component types fail decoding with a message naming them.
struct TokenizerFile: Decodable {
    let addedTokens: [AddedTokenSpec]
    let normalizer: NormalizerSpec?
    let preTokenizer: PreTokenizerSpec?
    let postProcessor: PostProcessorSpec?
    let model: BPEModelSpec

    enum CodingKeys: String, CodingKey {
        case addedTokens = "added_tokens", normalizer, preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor", model
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        addedTokens = try c.decodeIfPresent([AddedTokenSpec].self, forKey: .addedTokens) ?? []
        normalizer = try c.decodeIfPresent(NormalizerSpec.self, forKey: .normalizer)
        preTokenizer = try c.decodeIfPresent(PreTokenizerSpec.self, forKey: .preTokenizer)
        postProcessor = try c.decodeIfPresent(PostProcessorSpec.self, forKey: .postProcessor)
        model = try c.decode(BPEModelSpec.self, forKey: .model)
    }

    /// Reads and decodes `path`, turning every failure into a `TokenizerError` that names the file.
    static func load(_ path: String) throws -> TokenizerFile {
        let data = try JSONInput.read(path)
        do { return try JSONDecoder().decode(TokenizerFile.self, from: data) } catch let error as DecodingError {
            throw TokenizerError(path, describe(error))
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func location(_ path: [CodingKey]) -> String {
            path.isEmpty ? "" : " (at \(quoted(path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "."))))"
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(quoted(key.stringValue))\(location(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(context.debugDescription)\(location(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON (\(context.debugDescription))"
                : "\(context.debugDescription)\(location(context.codingPath))"
        @unknown default: return "\(error)"
        }
    }
}

/// Keys named by strings, for the `type`-tagged objects of tokenizer.json.
struct JSONKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where K == JSONKey {
    func value<T: Decodable>(_ key: String, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: JSONKey(key)) ?? fallback
    }

    func value<T: Decodable>(_ key: String) throws -> T { try decode(T.self, forKey: JSONKey(key)) }

    /// Fails decoding with `message` at `key`.
    func fail(_ key: String, _ message: String) -> DecodingError {
        DecodingError.dataCorruptedError(forKey: JSONKey(key), in: self, debugDescription: message)
    }
}

/// One `added_tokens` entry.
struct AddedTokenSpec: Decodable {
    let id: Int
    let content: String
    let singleWord: Bool
    let lstrip: Bool
    let rstrip: Bool
    let normalized: Bool

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        id = try c.value("id")
        content = try c.value("content")
        singleWord = try c.value("single_word", default: false)
        lstrip = try c.value("lstrip", default: false)
        rstrip = try c.value("rstrip", default: false)
        let special: Bool = try c.value("special", default: false)
        normalized = try c.value("normalized", default: !special)
    }
}

/// A normalizer: Unicode normal forms, alone or in a `Sequence`.
indirect enum NormalizerSpec: Decodable {
    case nfc, nfd, nfkc, nfkd
    case sequence([NormalizerSpec])

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        let type: String = try c.value("type")
        switch type {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Sequence": self = .sequence(try c.value("normalizers"))
        default: throw c.fail("type", "unsupported normalizer type \(quoted(type)) (supported: NFC, NFD, NFKC, NFKD, Sequence)")
        }
    }
}

/// How a `Split` step treats the pieces its pattern matches.
enum SplitBehavior: String, Decodable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}

/// A pre-tokenizer step.
indirect enum PreTokenizerSpec: Decodable {
    case split(pattern: String, isRegex: Bool, behavior: SplitBehavior, invert: Bool)
    case digits(individual: Bool)
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case sequence([PreTokenizerSpec])

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        let type: String = try c.value("type")
        switch type {
        case "Split":
            let pattern: [String: String] = try c.value("pattern")
            guard pattern.count == 1, let (kind, text) = pattern.first.map({ ($0.key, $0.value) }),
                  kind == "Regex" || kind == "String" else {
                throw c.fail("pattern", "a Split pattern must be {\"Regex\": …} or {\"String\": …}")
            }
            self = .split(pattern: text, isRegex: kind == "Regex", behavior: try c.value("behavior"),
                          invert: try c.value("invert", default: false))
        case "Digits": self = .digits(individual: try c.value("individual_digits", default: false))
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try c.value("add_prefix_space", default: true),
                              useRegex: try c.value("use_regex", default: true))
        case "Sequence": self = .sequence(try c.value("pretokenizers"))
        default:
            throw c.fail("type", "unsupported pre_tokenizer type \(quoted(type)) (supported: Split, Digits, ByteLevel, Sequence)")
        }
    }
}

/// A post-processor: the template's ids around the sequence, or none (`ByteLevel` only trims offsets).
indirect enum PostProcessorSpec: Decodable {
    /// `TemplateProcessing`'s single-sequence template: special-token ids, and nil where the sequence goes.
    case template([[Int]?])
    case byteLevel
    case sequence([PostProcessorSpec])

    private struct Piece: Decodable {
        struct Item: Decodable { let id: String }
        let SpecialToken: Item?
        let Sequence: Item?
    }

    private struct Special: Decodable { let ids: [Int] }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        let type: String = try c.value("type")
        switch type {
        case "TemplateProcessing":
            let pieces: [Piece] = try c.value("single")
            let specials: [String: Special] = try c.value("special_tokens", default: [:])
            self = .template(try pieces.map { piece in
                if let name = piece.SpecialToken?.id {
                    guard let special = specials[name] else {
                        throw c.fail("single", "the template names \(quoted(name)), which is not in special_tokens")
                    }
                    return special.ids
                }
                guard piece.Sequence != nil else { throw c.fail("single", "a template piece is neither SpecialToken nor Sequence") }
                return nil
            })
        case "ByteLevel": self = .byteLevel
        case "Sequence": self = .sequence(try c.value("processors"))
        default:
            throw c.fail("type", "unsupported post_processor type \(quoted(type)) (supported: TemplateProcessing, ByteLevel, Sequence)")
        }
    }
}

/// A BPE merge, written as "a b" or as ["a", "b"].
struct MergeSpec: Decodable {
    let left: String
    let right: String

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let pair = try? c.decode([String].self) {
            guard pair.count == 2 else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "a merge must have two parts") }
            (left, right) = (pair[0], pair[1])
        } else {
            let text = try c.decode(String.self)
            let parts = text.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "the merge \"\(text)\" is not two tokens separated by one space")
            }
            (left, right) = (String(parts[0]), String(parts[1]))
        }
    }
}

/// The `model` object; only byte-level `BPE` without dropout, subword affixes or byte fallback.
struct BPEModelSpec: Decodable {
    let vocab: [String: Int]
    let merges: [MergeSpec]
    let ignoreMerges: Bool

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: JSONKey.self)
        let type: String = try c.value("type", default: "BPE")
        guard type == "BPE" else { throw c.fail("type", "unknown model type \(quoted(type)) (only BPE is supported)") }
        vocab = try c.value("vocab")
        merges = try c.value("merges")
        ignoreMerges = try c.value("ignore_merges", default: false)
        if let dropout = try c.decodeIfPresent(Double.self, forKey: JSONKey("dropout")), dropout > 0 {
            throw c.fail("dropout", "BPE dropout is not supported")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try c.decodeIfPresent(String.self, forKey: JSONKey(key)), !affix.isEmpty {
                throw c.fail(key, "\(quoted(key)) is not supported")
            }
        }
        if try c.value("byte_fallback", default: false) { throw c.fail("byte_fallback", "byte_fallback is not supported") }
    }
}
