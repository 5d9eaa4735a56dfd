import Foundation

extension NormalizerSpec {
    /// `text` in the normal form(s) this normalizer names, applied in order.
    func apply(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .sequence(let steps): return steps.reduce(text) { $1.apply($0) }
        }
    }
}
