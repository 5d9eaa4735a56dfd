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
    /// Seconds a request may take, waiting included (a request's `timeout` may ask for less); nil: no limit.
    public var requestTimeout: Double?
    /// The origin browsers may call the API from (CORS), or `*` for any; nil: no CORS headers.
    public var corsOrigin: String?

    public init(host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil, maxBodyBytes: Int = 64 * 1024,
                maxImages: Int = 10, keepAliveSeconds: Double = 15, requestTimeout: Double? = 600, corsOrigin: String? = nil) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes
        self.maxImages = maxImages
        self.keepAliveSeconds = keepAliveSeconds
        self.requestTimeout = requestTimeout
        self.corsOrigin = corsOrigin
    }
}
