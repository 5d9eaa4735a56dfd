/// Rewrites a regex written for Oniguruma (the engine of the `tokenizers` library, Ruby syntax) into
/// ICU syntax with the same meaning, for `NSRegularExpression`.
///
/// What differs and is rewritten: `\s`/`\S` (Oniguruma's White_Space set includes U+000B and U+0085,
/// ICU's does not), `\h`/`\H` (hex digit in Oniguruma, horizontal space in ICU), and, outside brackets,
/// `.` (any scalar but "\n"), `^` and `$` (start and end of a line, where only "\n" ends a line).
/// Everything else (classes, ranges, `\p{…}`, lookarounds, `(?i:…)`) is passed through; `\w`, `\b` and
/// POSIX brackets keep ICU's meaning, which differs from Oniguruma's for some non-ASCII scalars.
enum OnigurumaPattern {
    private static let whitespace = #"\t\n\u000B\f\r\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"#

    static func icu(_ pattern: String) -> String {
        var out = ""
        var depth = 0
        var scalars = pattern.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar {
            case "\\":
                guard let next = scalars.next() else { out += "\\"; continue }
                switch next {
                case "s": out += "[\(whitespace)]"
                case "S": out += "[^\(whitespace)]"
                case "h": out += "[0-9A-Fa-f]"
                case "H": out += "[^0-9A-Fa-f]"
                default: out.unicodeScalars.append(contentsOf: ["\\", next])
                }
            case "[":
                depth += 1
                out += "["
            case "]" where depth > 0:
                depth -= 1
                out += "]"
            case "." where depth == 0: out += #"[^\n]"#
            case "^" where depth == 0: out += #"(?<![^\n])"#
            case "$" where depth == 0: out += #"(?![^\n])"#
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
