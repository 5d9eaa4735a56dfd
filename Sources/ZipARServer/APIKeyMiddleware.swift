import Hummingbird

/// Requires `Authorization: Bearer <key>` on every route but `/health`, `/ready`, `/metrics` (probes and
/// the scraper stay public) and the web page at `/` (which asks for the key and sends it itself);
/// the key is compared in constant time. A missing or wrong key is a 401 `authentication_error`.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: [UInt8]
    static var publicPaths: Set<String> { ["/", "/health", "/ready", "/metrics"] }

    init(key: String) { self.key = Array(key.utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.publicPaths.contains(request.uri.path) { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.constantTimeEqual(Array(header.utf8.dropFirst(prefix.utf8.count)), key) else {
            throw APIError(status: .unauthorized, message: header.isEmpty ? "missing API key: send Authorization: Bearer KEY" : "incorrect API key",
                           type: "authentication_error", code: "invalid_api_key")
        }
        return try await next(request, context)
    }

    /// True when `a == b`, in time that depends on their lengths alone.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
