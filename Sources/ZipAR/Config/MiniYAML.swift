import Foundation

/// A value of the YAML subset that model configs use (taming-transformers' vqgan.yaml): block mappings,
/// block sequences of scalars, flow sequences and mappings of scalars (`[1, 2]`, `{a: 1}`), plain or quoted
/// scalars and `#` comments. Anchors, tags, multi-line scalars and nested flow collections are refused.
public indirect enum YAMLValue: Equatable, Sendable {
    case mapping([(key: String, value: YAMLValue)])
    case sequence([YAMLValue])
    case scalar(String)

    public static func == (a: YAMLValue, b: YAMLValue) -> Bool {
        switch (a, b) {
        case let (.mapping(x), .mapping(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.sequence(x), .sequence(y)): return x == y
        case let (.scalar(x), .scalar(y)): return x == y
        default: return false
        }
    }

    /// The value under `key` of a mapping.
    public subscript(key: String) -> YAMLValue? {
        if case .mapping(let pairs) = self { return pairs.first { $0.key == key }?.value }
        return nil
    }
}

/// Parses the YAML subset of `YAMLValue`; errors name the file and the line.
public enum MiniYAML {
    /// Largest file read (a config, not data).
    static let maxBytes = 1 << 20
    static let maxDepth = 32

    public static func read(_ path: String) throws -> YAMLValue {
        let file = try MappedFile(path: path)
        guard file.bytes.count <= maxBytes else { throw CheckpointError(path, "is \(file.bytes.count) bytes, more than a config's \(maxBytes)") }
        // The mapping must outlive the copy: `file` is not used after its bytes are taken.
        let text = withExtendedLifetime(file) { String(validating: file.bytes, as: UTF8.self) }
        guard let text else { throw CheckpointError(path, "is not UTF-8 text") }
        return try parse(text, file: path)
    }

    private struct Line { let number: Int; let indent: Int; let text: String }

    public static func parse(_ text: String, file: String) throws -> YAMLValue {
        var lines: [Line] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let stripped = stripComment(String(raw))
            let body = stripped.trimmingCharacters(in: .whitespaces)
            if body.isEmpty || body == "---" { continue }
            if stripped.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                throw CheckpointError(file, "line \(i + 1): tabs in indentation are not YAML")
            }
            lines.append(Line(number: i + 1, indent: stripped.prefix(while: { $0 == " " }).count, text: body))
        }
        var at = 0
        guard !lines.isEmpty else { return .mapping([]) }
        let value = try block(lines, &at, indent: lines[0].indent, depth: 0, file: file)
        if at < lines.count { throw CheckpointError(file, "line \(lines[at].number): unexpected indentation") }
        return value
    }

    private static func block(_ lines: [Line], _ at: inout Int, indent: Int, depth: Int, file: String) throws -> YAMLValue {
        guard depth < maxDepth else { throw CheckpointError(file, "line \(lines[at].number): nested deeper than \(maxDepth)") }
        if lines[at].text.hasPrefix("- ") || lines[at].text == "-" {
            var items: [YAMLValue] = []
            while at < lines.count, lines[at].indent == indent, lines[at].text.hasPrefix("-") {
                let item = lines[at].text.dropFirst().trimmingCharacters(in: .whitespaces)
                if item.isEmpty || item.contains(": ") || item.hasSuffix(":") {
                    throw CheckpointError(file, "line \(lines[at].number): only scalars are supported in block sequences")
                }
                items.append(try scalarOrFlow(item, line: lines[at].number, file: file))
                at += 1
            }
            return .sequence(items)
        }
        var pairs: [(key: String, value: YAMLValue)] = []
        while at < lines.count, lines[at].indent == indent {
            let line = lines[at]
            guard let colon = keyColon(line.text) else { throw CheckpointError(file, "line \(line.number): expected 'key: value'") }
            let key = unquote(String(line.text[..<colon]).trimmingCharacters(in: .whitespaces))
            let rest = String(line.text[line.text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if pairs.contains(where: { $0.key == key }) { throw CheckpointError(file, "line \(line.number): duplicate key \(quoted(key))") }
            at += 1
            if rest.isEmpty {
                // a nested block (deeper, or a sequence at the same indentation), or null
                if at < lines.count, lines[at].indent > indent || (lines[at].indent == indent && lines[at].text.hasPrefix("-")) {
                    pairs.append((key, try block(lines, &at, indent: lines[at].indent, depth: depth + 1, file: file)))
                } else {
                    pairs.append((key, .scalar("null")))
                }
            } else {
                pairs.append((key, try scalarOrFlow(rest, line: line.number, file: file)))
            }
        }
        if at < lines.count, lines[at].indent > indent { throw CheckpointError(file, "line \(lines[at].number): unexpected indentation") }
        return .mapping(pairs)
    }

    private static func scalarOrFlow(_ text: String, line: Int, file: String) throws -> YAMLValue {
        if text.hasPrefix("&") || text.hasPrefix("*") || text.hasPrefix("!") || text.hasPrefix("|") || text.hasPrefix(">") {
            throw CheckpointError(file, "line \(line): anchors, tags and block scalars are not supported")
        }
        if text.hasPrefix("{") {
            guard text.hasSuffix("}") else { throw CheckpointError(file, "line \(line): unterminated flow mapping") }
            let inner = text.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
            if inner.isEmpty { return .mapping([]) }
            if inner.contains("[") || inner.contains("{") { throw CheckpointError(file, "line \(line): nested flow collections are not supported") }
            var pairs: [(key: String, value: YAMLValue)] = []
            for item in inner.split(separator: ",") {
                let entry = String(item).trimmingCharacters(in: .whitespaces)
                guard let colon = keyColon(entry) else { throw CheckpointError(file, "line \(line): expected 'key: value' in a flow mapping") }
                let key = unquote(String(entry[..<colon]).trimmingCharacters(in: .whitespaces))
                if pairs.contains(where: { $0.key == key }) { throw CheckpointError(file, "line \(line): duplicate key \(quoted(key))") }
                pairs.append((key, .scalar(unquote(String(entry[entry.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))))
            }
            return .mapping(pairs)
        }
        guard text.hasPrefix("[") else { return .scalar(unquote(text)) }
        guard text.hasSuffix("]") else { throw CheckpointError(file, "line \(line): unterminated flow sequence") }
        let inner = text.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        if inner.isEmpty { return .sequence([]) }
        if inner.contains("[") || inner.contains("{") { throw CheckpointError(file, "line \(line): nested flow collections are not supported") }
        return .sequence(inner.split(separator: ",").map { .scalar(unquote($0.trimmingCharacters(in: .whitespaces))) })
    }

    /// The colon ending a mapping key (followed by a space or the line's end), outside quotes.
    private static func keyColon(_ text: String) -> String.Index? {
        var quote: Character?
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if c == ":" {
                let next = text.index(after: i)
                if next == text.endIndex || text[next] == " " { return i }
            }
            i = text.index(after: i)
        }
        return nil
    }

    private static func stripComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for (offset, c) in line.enumerated() {
            if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if c == "#" && previous == " " {
                return String(line.prefix(offset))
            }
            previous = c
        }
        return line
    }

    private static func unquote(_ s: String) -> String {
        if s.count >= 2, let f = s.first, f == s.last, f == "\"" || f == "'" { return String(s.dropFirst().dropLast()) }
        return s
    }
}
