/// A stretch of input: an added token's id, or text for the pre-tokenizer.
enum Segment {
    case token(Int)
    case text(String)
}

/// Finds added tokens in text the way the `tokenizers` library does: leftmost match first, the longest
/// one at that position, matches never overlapping, on Unicode scalars (no canonical equivalence).
///
/// `single_word` drops a match that has a word character (Unicode `\w`) right before or after it;
/// `lstrip` / `rstrip` make the token take the whitespace on its left (back to the previous match) /
/// right. After an `rstrip` token, the search goes on after the whitespace it took.
struct AddedTokenMatcher {
    struct Token {
        let scalars: [Unicode.Scalar]
        let id: Int
        let singleWord: Bool
        let lstrip: Bool
        let rstrip: Bool
    }

    /// Tokens by first scalar, longest first.
    private let byFirst: [Unicode.Scalar: [Token]]

    init(_ tokens: [Token]) {
        byFirst = Dictionary(grouping: tokens.filter { !$0.scalars.isEmpty }, by: { $0.scalars[0] })
            .mapValues { $0.sorted { $0.scalars.count > $1.scalars.count } }
    }

    /// `text` cut into added tokens and the text between them (never an empty text segment).
    func split(_ text: String) -> [Segment] {
        guard !byFirst.isEmpty else { return [.text(text)] }
        let s = Array(text.unicodeScalars)
        var segments = [Segment]()
        var done = 0
        var i = 0
        func flush(_ end: Int) {
            if end > done { segments.append(.text(String(String.UnicodeScalarView(s[done..<end])))) }
        }
        while i < s.count {
            guard let token = longest(at: i, in: s) else { i += 1; continue }
            var start = i, end = i + token.scalars.count
            i = end
            if token.singleWord && (start > 0 && isWord(s[start - 1]) || end < s.count && isWord(s[end])) { continue }
            if token.lstrip { while start > done && s[start - 1].properties.isWhitespace { start -= 1 } }
            if token.rstrip { while end < s.count && s[end].properties.isWhitespace { end += 1 } }
            flush(start)
            segments.append(.token(token.id))
            done = end
            i = end
        }
        flush(s.count)
        return segments
    }

    private func longest(at i: Int, in s: [Unicode.Scalar]) -> Token? {
        byFirst[s[i]]?.first { token in
            i + token.scalars.count <= s.count && s[i..<(i + token.scalars.count)].elementsEqual(token.scalars)
        }
    }

    /// Unicode `\w` (UTS #18): alphabetic, marks, decimal digits, connector punctuation, join controls.
    private func isWord(_ scalar: Unicode.Scalar) -> Bool {
        let p = scalar.properties
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return p.isAlphabetic || p.isJoinControl
        }
    }
}
