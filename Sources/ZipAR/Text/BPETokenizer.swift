/// A byte-level BPE text tokenizer read from a Hugging Face `tokenizer.json`, encoding as the `tokenizers`
/// library does (DeepSeek-LLM / Janus, GPT-2, Llama 3 and Chameleon-style files).
///
/// Supported: model `BPE` (vocab; merges as "a b" or ["a", "b"]; `ignore_merges`); `added_tokens`
/// (special or not, matched before normalization and pre-tokenization, `normalized` ones after the
/// normalizer; `single_word`, `lstrip`, `rstrip`); normalizer null, NFC, NFD, NFKC, NFKD or a Sequence of
/// them; pre-tokenizer `Split` (Regex or String; every behavior; `invert`), `Digits`, `ByteLevel`
/// (`add_prefix_space`, `use_regex`) or a Sequence of them ending in `ByteLevel`; post-processor
/// `TemplateProcessing` (single sequence), `ByteLevel`, a Sequence or null. Anything else (another model
/// type, BPE dropout, byte fallback, subword affixes, other normalizers or pre-tokenizers) is an error
/// naming the file. Split regexes are Oniguruma's; see `OnigurumaPattern` for how they map to ICU.
/// Immutable after loading (its compiled regexes only match), so it is shared across threads.
public struct BPETokenizer: @unchecked Sendable {
    private let model: BPEModel
    private let normalizer: NormalizerSpec?
    private let preTokenizer: [PreTokenizer]
    /// Tokens matched on the raw text, then `normalized` ones matched on the normalized text.
    private let rawTokens: AddedTokenMatcher
    private let normalizedTokens: AddedTokenMatcher
    private let addedIDs: [String: Int]
    /// The post-processor's single-sequence template: ids, and nil where the text goes.
    private let template: [[Int]?]
    /// The model's vocabulary (token → id) as the file lists it.
    public let vocabulary: [String: Int]

    /// Reads the tokenizer.json at `path`; throws a `TokenizerError` naming the file for unreadable, invalid
    /// or unsupported content.
    public init(contentsOf path: String) throws {
        let file = try TokenizerFile.load(path)
        model = try BPEModel(file.model, file: path)
        normalizer = file.normalizer
        preTokenizer = try PreTokenizer.compile(file.preTokenizer, file: path)
        func matcher(_ normalized: Bool) -> AddedTokenMatcher {
            AddedTokenMatcher(file.addedTokens.filter { $0.normalized == normalized }.map {
                let content = normalized ? (file.normalizer?.apply($0.content) ?? $0.content) : $0.content
                return .init(scalars: Array(content.unicodeScalars), id: $0.id, singleWord: $0.singleWord,
                             lstrip: $0.lstrip, rstrip: $0.rstrip)
            })
        }
        rawTokens = matcher(false)
        normalizedTokens = matcher(true)
        addedIDs = Dictionary(file.addedTokens.map { ($0.content, $0.id) }, uniquingKeysWith: { first, _ in first })
        template = BPETokenizer.template(file.postProcessor)
        vocabulary = file.model.vocab
        vocabularySize = max(model.maxID, file.addedTokens.map(\.id).max() ?? -1) + 1
    }

    private static func template(_ spec: PostProcessorSpec?) -> [[Int]?] {
        switch spec {
        case .template(let pieces): return pieces
        case .sequence(let steps): return steps.reduce([nil]) { result, step in
            template(step).flatMap { $0 == nil ? result : [$0] }
        }
        case .byteLevel, nil: return [nil]
        }
    }

    /// One more than the largest id of the vocabulary and the added tokens.
    public let vocabularySize: Int

    /// The id the post-processor puts before the text (BOS), if it puts a single one there.
    public var bosID: Int? {
        guard let first = template.first, let ids = first, ids.count == 1 else { return nil }
        return ids[0]
    }

    /// The id of an added (special or not) token, by its exact content.
    public func id(of token: String) -> Int? { addedIDs[token] }

    /// The id of `token` among the added tokens, else in the model's vocabulary.
    public func anyID(of token: String) -> Int? { addedIDs[token] ?? vocabulary[token] }

    /// The ids of `text`; `addSpecialTokens` applies the post-processor's template (Janus: BOS first).
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids = [Int]()
        for segment in rawTokens.split(text) {
            guard case .text(let raw) = segment else { append(segment, to: &ids); continue }
            for inner in normalizedTokens.split(normalizer?.apply(raw) ?? raw) {
                guard case .text(let normalized) = inner else { append(inner, to: &ids); continue }
                for piece in PreTokenizer.pieces(of: normalized, preTokenizer) {
                    model.encode(Array(piece.utf8), into: &ids)
                }
            }
        }
        guard addSpecialTokens else { return ids }
        return template.flatMap { $0 ?? ids }
    }

    private func append(_ segment: Segment, to ids: inout [Int]) {
        if case .token(let id) = segment { ids.append(id) }
    }
}
