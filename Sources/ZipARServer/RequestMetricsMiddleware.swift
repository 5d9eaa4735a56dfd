import Foundation
import Hummingbird

/// Counts every request by its matched route and status (errors by the status they become) and times it to
/// the response head, for `/metrics`.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(context, status: response.status.code, since: start)
            return response
        } catch {
            record(context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    private func record(_ context: Context, status: Int, since start: ContinuousClock.Instant) {
        metrics.recordRequest(route: context.endpointPath ?? "unmatched", status: status, seconds: start.duration(to: .now).seconds)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
