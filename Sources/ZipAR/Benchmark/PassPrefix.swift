import Foundation

/// What a `PassPrefixSchedule` shares with the benchmark: when each of its passes finished (uptime
/// nanoseconds; the per-pass time of the later passes apart from the first, the prefill), and the KV slots
/// of its skipped passes that `SkippedContextModel` has yet to mark written.
final class PassPrefixRecord: @unchecked Sendable {
    private(set) var finished: [UInt64] = []
    var unmarkedSlots: [Int] = []

    func markFinished() { finished.append(DispatchTime.now().uptimeNanoseconds) }
}

/// A schedule cut after its first `limit` passes (the lead passes not counted): what a benchmark times
/// when whole images at real shapes take too long, to extrapolate from. With `skip`, the `skip` passes
/// after the first are planned but not run: their cells read as code 0 to the inner schedule (the
/// generator's grid leaves them empty), so the passes after them are the ones the schedule makes there,
/// and their slots (cells, and the line ends after skipped rows) go to `record` to be marked written.
struct PassPrefixSchedule: DecodingSchedule {
    var inner: any DecodingSchedule
    let layout: SequenceLayout
    let limit: Int
    let skip: Int
    let record: PassPrefixRecord
    private var passes = 0
    /// Cells the skipped passes would have sampled.
    private var skipped: [Int] = []

    init(_ inner: any DecodingSchedule, layout: SequenceLayout, limit: Int, skip: Int = 0, record: PassPrefixRecord = PassPrefixRecord()) {
        self.inner = inner
        self.layout = layout
        self.limit = limit
        self.skip = skip
        self.record = record
    }

    var name: String { inner.name }
    func leadPasses(for layout: SequenceLayout) -> [DecodingPass] { inner.leadPasses(for: layout) }

    mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? {
        guard passes < limit else { return nil }
        if passes == 1 && skipped.isEmpty { skipAhead(grid) }
        return inner.nextPass(seen(grid))
    }

    mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) {
        passes += 1
        record.markFinished()
        inner.passDidFinish(pass, grid: seen(grid))
    }

    /// `grid` with the skipped cells filled.
    private func seen(_ grid: TokenGrid) -> TokenGrid {
        var g = grid
        for cell in skipped where g[cell] == nil { g[cell] = 0 }
        return g
    }

    private mutating func skipAhead(_ grid: TokenGrid) {
        var g = grid
        for _ in 0..<skip {
            guard let pass = inner.nextPass(g) else { break }
            for p in pass.predictions where g[p.cell] == nil {
                g[p.cell] = 0
                skipped.append(p.cell)
            }
            inner.passDidFinish(pass, grid: g)
        }
        for cell in skipped {
            let (r, c) = cell.quotientAndRemainder(dividingBy: layout.width)
            record.unmarkedSlots.append(layout.position(row: r, column: c))
            if layout.hasLineEnd && c == layout.width - 1 { record.unmarkedSlots.append(layout.lineEndPosition(row: r)) }
        }
    }
}

/// The passes of a whole image under `spec` without running a model: every predicted cell is filled with
/// code 0 (deterministic schedules plan the same passes whatever the tokens). Lead passes included, as
/// `GenerationStats` counts them. Nil for zipar-adaptive, whose passes depend on its acceptances.
func plannedPasses(_ spec: ScheduleSpec, layout: SequenceLayout) -> GenerationStats? {
    if case .ziparAdaptive = spec { return nil }
    var schedule = spec.schedule(layout: layout)
    var grid = TokenGrid(height: layout.height, width: layout.width)
    var stats = GenerationStats(schedule: schedule.name, forward_passes: 0, tokens_per_pass: [], inputs_per_pass: [], seconds: 0)
    for lead in schedule.leadPasses(for: layout) {
        stats.inputs_per_pass.append(lead.inputs.count)
        stats.tokens_per_pass.append(0)
    }
    while let pass = schedule.nextPass(grid) {
        var settled = 0
        for p in pass.predictions where grid[p.cell] == nil {
            grid[p.cell] = 0
            settled += 1
        }
        schedule.passDidFinish(pass, grid: grid)
        stats.inputs_per_pass.append(pass.inputs.count)
        stats.tokens_per_pass.append(settled)
    }
    stats.forward_passes = stats.inputs_per_pass.count
    return stats
}
