import Foundation
#if canImport(CBLAS)
import CBLAS
#endif

/// What the benchmark ran on, read from the system.
public struct MachineInfo: Codable, Sendable {
    /// /proc/cpuinfo's first "model name" ("unknown" where there is none).
    public var cpuModel: String
    /// Cores available to this process.
    public var cores: Int
    /// Threads of the SIMD weight kernels (`ComputeThreads`).
    public var computeThreads: Int
    /// OpenBLAS's threads (nil where BLAS is not OpenBLAS).
    public var blasThreads: Int?
    /// Whether this is an optimised build (a debug build's timings mean little).
    public var build: String

    /// The machine this process runs on.
    public static func current() -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces)
        #if canImport(CBLAS)
        let blas: Int? = Int(openblas_get_num_threads())
        #else
        let blas: Int? = nil
        #endif
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return MachineInfo(cpuModel: model ?? "unknown", cores: ProcessInfo.processInfo.activeProcessorCount,
                           computeThreads: ComputeThreads.count, blasThreads: blas, build: build)
    }

    /// The 1-minute load average (/proc/loadavg), nil where it cannot be read. Above ~0.5 on an idle
    /// machine means something else is competing for the cores.
    public static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }

    /// The process's peak resident memory so far (getrusage's ru_maxrss), in MiB.
    public static func peakResidentMebibytes() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // KiB
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / (1024 * 1024)  // bytes
        #endif
    }
}
