/// A family's sampling settings when neither a flag nor the model folder's generation_config.json gives one.
public struct SamplingDefaults: Equatable, Sendable {
    public var cfgScale: Float
    public var options: SamplingOptions

    public init(cfgScale: Float, options: SamplingOptions) {
        self.cfgScale = cfgScale
        self.options = options
    }

    /// LlamaGen's sample.py defaults: CFG 4, temperature 1, top-k 2000, top-p 1.
    public static let llamaGen = SamplingDefaults(cfgScale: 4, options: SamplingOptions(temperature: 1, topK: 2000, topP: 1))

    /// These defaults with every field `config` sets taken from it.
    public func overridden(by config: GenerationConfig?) -> SamplingDefaults {
        guard let config else { return self }
        return SamplingDefaults(cfgScale: config.scale ?? cfgScale,
                                options: SamplingOptions(temperature: config.temperature ?? options.temperature,
                                                         topK: config.top_k ?? options.topK, topP: config.top_p ?? options.topP))
    }
}
