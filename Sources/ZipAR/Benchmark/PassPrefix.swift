/// A schedule cut after its first `limit` passes (the lead passes not counted): what a benchmark times
/// when whole images at real shapes take too long, to extrapolate from.
struct PassPrefixSchedule: DecodingSchedule {
    var inner: any DecodingSchedule
    let limit: Int
    private var passes = 0

    init(_ inner: any DecodingSchedule, limit: Int) {
        self.inner = inner
        self.limit = limit
    }

    var name: String { inner.name }
    func leadPasses(for layout: SequenceLayout) -> [DecodingPass] { inner.leadPasses(for: layout) }
    mutating func nextPass(_ grid: TokenGrid) -> DecodingPass? { passes < limit ? inner.nextPass(grid) : nil }
    mutating func passDidFinish(_ pass: DecodingPass, grid: TokenGrid) {
        passes += 1
        inner.passDidFinish(pass, grid: grid)
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
