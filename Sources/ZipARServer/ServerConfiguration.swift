/// What `zipar serve` listens on and the limits it enforces on each request.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// When set, every route but /health and /ready needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Largest request body; more is a 413.
    public var maxBodyBytes: Int
    /// Largest `n` of one request.
    public var maxImages: Int
    /// Seconds between keep-alive comments on an idle event stream.
    public var keepAliveSeconds: Double

    public init(host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil, maxBodyBytes: Int = 64 * 1024,
                maxImages: Int = 10, keepAliveSeconds: Double = 15) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes
        self.maxImages = maxImages
        self.keepAliveSeconds = keepAliveSeconds
    }
}
