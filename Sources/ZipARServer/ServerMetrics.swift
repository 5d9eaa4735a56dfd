import Prometheus

/// What `GET /metrics` reports, in Prometheus' text format: HTTP requests by route and status, images
/// waiting and running, queue wait, pass, image and end-to-end durations, images per pass, and images by
/// outcome. One registry per engine (no process-wide state), so servers in one process report apart.
public final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let waiting: Gauge
    private let running: Gauge
    private let queueWait: ValueHistogram
    private let pass: ValueHistogram
    private let image: ValueHistogram
    private let latency: ValueHistogram
    private let batchSize: ValueHistogram
    private let requestDuration: ValueHistogram

    /// Why an image left the engine.
    public enum Outcome: String, Sendable, CaseIterable {
        case completed, cancelled, failed
        /// Its request's deadline passed first.
        case expired
    }

    public init() {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "zipar", metricName: metric, unitName: unit, helpText: help)
        }
        let seconds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800]
        waiting = registry.makeGauge(descriptor: name("images_waiting", "", "Images queued for a place in the batch."))
        running = registry.makeGauge(descriptor: name("images_running", "", "Images in the running batch."))
        queueWait = registry.makeValueHistogram(
            descriptor: name("queue_wait", "seconds", "Time from submission to joining the batch."), buckets: seconds)
        pass = registry.makeValueHistogram(
            descriptor: name("pass", "seconds", "Duration of one model pass over the batch."),
            buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
        image = registry.makeValueHistogram(
            descriptor: name("image_generation", "seconds", "Time from joining the batch to the last token."), buckets: seconds)
        latency = registry.makeValueHistogram(
            descriptor: name("image_latency", "seconds", "Time from submission to the finished image (decoded)."), buckets: seconds)
        batchSize = registry.makeValueHistogram(
            descriptor: name("batch_size", "", "Images sharing one pass."), buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256])
        requestDuration = registry.makeValueHistogram(
            descriptor: name("http_request_duration", "seconds", "Time to the response head (event streams: to their first byte)."),
            buckets: seconds)
        for outcome in Outcome.allCases { _ = imagesCounter(outcome) }
    }

    /// One model pass of `images` images took `seconds`.
    func recordPass(seconds: Double, images: Int) {
        pass.record(seconds)
        batchSize.record(Double(images))
    }

    /// An image joined the batch after waiting `seconds`.
    func recordAdmission(waited seconds: Double) { queueWait.record(seconds) }

    /// An image left the engine; `generation` (batch to last token) and `latency` (submission to decoded
    /// image) are given for completed images.
    func recordImage(_ outcome: Outcome, generation: Double? = nil, latency: Double? = nil) {
        imagesCounter(outcome).increment()
        if let generation { image.record(generation) }
        if let latency { self.latency.record(latency) }
    }

    /// An HTTP request to `route` (the matched route's path, or "unmatched") answered `status`.
    func recordRequest(route: String, status: Int, seconds: Double) {
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "zipar", metricName: "http_requests", unitName: "total",
                                                              helpText: "HTTP requests by route and status."),
                             labels: [("route", route), ("status", String(status))]).increment()
        requestDuration.record(seconds)
    }

    private func imagesCounter(_ outcome: Outcome) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "zipar", metricName: "images", unitName: "total",
                                                              helpText: "Images that left the engine, by outcome."),
                             labels: [("outcome", outcome.rawValue)])
    }

    /// The exposition text, with the queue's present `waiting` and `running` counts.
    public func render(waiting: Int, running: Int) -> [UInt8] {
        self.waiting.set(Double(waiting))
        self.running.set(Double(running))
        var text: [UInt8] = []
        registry.emit(into: &text)
        return text
    }
}
