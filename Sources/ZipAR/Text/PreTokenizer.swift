import Foundation

/// One compiled pre-tokenizer step. Each step splits every current piece into smaller ones, as in the
/// `tokenizers` library; the byte-to-symbol mapping of `ByteLevel` is left to the BPE model, which reads
/// the UTF-8 bytes of each piece.
enum PreTokenizer {
    case split(NSRegularExpression, SplitBehavior, invert: Bool)
    case digits(individual: Bool)
    case byteLevel(addPrefixSpace: Bool, regex: NSRegularExpression?)

    /// The steps of `spec`, nested sequences flattened. A byte-level BPE needs `ByteLevel` as the last step.
    static func compile(_ spec: PreTokenizerSpec?, file: String) throws -> [PreTokenizer] {
        func flatten(_ spec: PreTokenizerSpec) throws -> [PreTokenizer] {
            switch spec {
            case .sequence(let steps): return try steps.flatMap(flatten)
            case .digits(let individual): return [.digits(individual: individual)]
            case .split(let pattern, let isRegex, let behavior, let invert):
                let source = isRegex ? OnigurumaPattern.icu(pattern) : NSRegularExpression.escapedPattern(for: pattern)
                return [.split(try regex(source, original: pattern, file: file), behavior, invert: invert)]
            case .byteLevel(let addPrefixSpace, let useRegex):
                let pattern = ByteLevel.gpt2Pattern
                return [.byteLevel(addPrefixSpace: addPrefixSpace,
                                   regex: useRegex ? try regex(OnigurumaPattern.icu(pattern), original: pattern, file: file) : nil)]
            }
        }
        let steps = try spec.map(flatten) ?? []
        guard case .byteLevel = steps.last else {
            throw TokenizerError(file, "only byte-level BPE is supported: the pre_tokenizer must end with a ByteLevel step")
        }
        return steps
    }

    private static func regex(_ source: String, original: String, file: String) throws -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: source) } catch {
            throw TokenizerError(file, "cannot compile the Split regex \(quoted(original))")
        }
    }

    /// Runs `steps` over `text`: the non-empty pieces, in order.
    static func pieces(of text: String, _ steps: [PreTokenizer]) -> [String] {
        var pieces = [text]
        for step in steps { pieces = pieces.flatMap(step.split) }
        return pieces
    }

    private func split(_ piece: String) -> [String] {
        switch self {
        case .split(let regex, let behavior, let invert):
            return PreTokenizer.split(piece, marks: PreTokenizer.marks(regex, piece), behavior: behavior, invert: invert)
        case .digits(let individual):
            var marks = [(NSRange, Bool)]()
            var offset = 0
            for scalar in piece.unicodeScalars {
                let length = scalar.utf16.count
                let isDigit = PreTokenizer.isNumeric(scalar)
                if isDigit || marks.last?.1 != false {
                    marks.append((NSRange(location: offset, length: length), isDigit))
                } else {
                    marks[marks.count - 1].0.length += length
                }
                offset += length
            }
            return PreTokenizer.split(piece, marks: marks, behavior: individual ? .isolated : .contiguous, invert: false)
        case .byteLevel(let addPrefixSpace, let regex):
            let spaced = addPrefixSpace && piece.unicodeScalars.first != " " ? " " + piece : piece
            guard let regex else { return [spaced] }
            return PreTokenizer.split(spaced, marks: PreTokenizer.marks(regex, spaced), behavior: .isolated, invert: false)
        }
    }

    /// Rust's `char::is_numeric`, which `Digits` uses: general category Nd, Nl or No.
    private static func isNumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// The matches of `regex` in `piece` and the stretches between them (UTF-16 ranges, true for a match).
    private static func marks(_ regex: NSRegularExpression, _ piece: String) -> [(NSRange, Bool)] {
        let length = piece.utf16.count
        var marks = [(NSRange, Bool)]()
        var previous = 0
        for match in regex.matches(in: piece, range: NSRange(location: 0, length: length)) where match.range.length > 0 {
            if match.range.location > previous {
                marks.append((NSRange(location: previous, length: match.range.location - previous), false))
            }
            marks.append((match.range, true))
            previous = NSMaxRange(match.range)
        }
        if previous < length { marks.append((NSRange(location: previous, length: length - previous), false)) }
        return marks
    }

    /// The pieces that `behavior` makes from `marks` (the `tokenizers` library's split semantics).
    private static func split(_ piece: String, marks: [(NSRange, Bool)], behavior: SplitBehavior, invert: Bool) -> [String] {
        var ranges = [NSRange]()
        var previousMatch = false
        let ordered = behavior == .mergedWithNext ? marks.reversed() : marks
        for (range, rawMatch) in ordered {
            let isMatch = rawMatch != invert
            switch behavior {
            case .removed: if !isMatch { ranges.append(range) }
            case .isolated: ranges.append(range)
            case .mergedWithPrevious, .mergedWithNext, .contiguous:
                let merge = behavior == .contiguous ? isMatch == previousMatch : isMatch && !previousMatch
                if merge, let last = ranges.last {
                    ranges[ranges.count - 1] = NSUnionRange(last, range)
                } else {
                    ranges.append(range)
                }
            }
            previousMatch = isMatch
        }
        if behavior == .mergedWithNext { ranges.reverse() }
        let text = piece as NSString
        return ranges.filter { $0.length > 0 }.map { text.substring(with: $0) }
    }
}
