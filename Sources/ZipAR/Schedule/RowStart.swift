/// How a wavefront schedule (zipar, zipar-adaptive) predicts the first token of row r while row r−1 is
/// still incomplete. In raster order (r, 0) is predicted by the output at the slot and rotary position of
/// (r−1, W−1), the last token of row r−1, which does not exist yet. Once row r−1 is complete the real token
/// is fed there instead, whatever the choice.
public enum RowStart: String, CaseIterable, Sendable {
    /// A query-only stand-in at the slot of (r−1, W−1) holding a copy of the newest token of row r−2 (of
    /// row 0 for row 1), the token value the released code copies.
    case placeholder
    /// A query-only stand-in at the slot of (r−1, W−1) holding the newest token of row r−1.
    case neighbour
    /// No stand-in: (r, 0) is drawn from the output that also predicts the next token of row r−1 (the
    /// newest token of row r−1 at its own position), so it costs no extra input.
    case shared

    /// The query for (r, 0) while row r−1 is incomplete: the index of a new input appended to `inputs`, or
    /// for `.shared` `rowAboveInput`, the input feeding the newest token of row r−1.
    func query(row r: Int, grid: TokenGrid, layout: SequenceLayout, rowAboveInput: Int,
               inputs: inout [ModelInput]) -> Int {
        let source: Int
        switch self {
        case .shared: return rowAboveInput
        case .placeholder: source = max(r - 2, 0)
        case .neighbour: source = r - 1
        }
        let token = grid[source, grid.count(row: source) - 1]!
        inputs.append(ModelInput(.token(token), position: layout.position(row: r - 1, column: layout.width - 1),
                                 writesCache: false))
        return inputs.count - 1
    }
}
