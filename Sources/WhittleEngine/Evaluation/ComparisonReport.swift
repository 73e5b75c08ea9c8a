// Everything `whittle compare` measures for a base and its variants, and the one function that
// measures it (used by the command and by the workbench's Compare screen, so both show the same
// numbers): load every model, check their tokenizers, load the evaluation text, time each model's
// prefill and decode (`InferenceBench`, before the evaluation so its buffers are not in the peak
// RSS), score every model on the same windows (`Comparator`), and state in words whether each
// variant is smaller and faster than the base.

import Foundation

/// What to compare and how.
public struct ComparisonRequest: Equatable, Sendable {
    /// Speed test settings (llama-bench's ppN / tgN).
    public struct Speed: Equatable, Sendable {
        public var threads: Int
        public var promptTokens: Int
        public var decodeTokens: Int
        public var repetitions: Int
        public init(threads: Int = 1, promptTokens: Int = 256, decodeTokens: Int = 128, repetitions: Int = 5) {
            self.threads = threads
            self.promptTokens = promptTokens
            self.decodeTokens = decodeTokens
            self.repetitions = repetitions
        }
    }

    /// The base first, then its variants (directories or .gguf files), as the user named them.
    public var models: [String]
    /// A text file to evaluate on; nil: the base's validation split.
    public var data: String?
    public var skipUnknown: Bool
    public var contextLength: Int?
    public var batchSize: Int
    /// nil: no speed measurement.
    public var speed: Speed?

    public init(models: [String], data: String? = nil, skipUnknown: Bool = false, contextLength: Int? = nil,
                batchSize: Int = 16, speed: Speed? = Speed()) {
        self.models = models
        self.data = data
        self.skipUnknown = skipUnknown
        self.contextLength = contextLength
        self.batchSize = batchSize
        self.speed = speed
    }
}

/// Everything `compare` measured.
public struct ComparisonReport: Codable, Equatable, Sendable {
    public var data: String
    public var skippedCharacters: Int
    public var contextLength: Int
    public var windows: Int
    public var tokens: Int
    public var threads: Int?
    public var processPeakResidentBytes: Int
    public var models: [Row]

    /// One model: what it is, its own evaluation, and (variants) its comparison with the base.
    public struct Row: Codable, Equatable, Sendable {
        public var model: String
        public var source: String
        public var role: String
        public var format: String
        public var parameters: Int
        public var fileBytes: Int
        public var bitsPerWeight: Double
        public var evaluation: EvaluationResult
        public var comparison: VariantComparison?
        public var speed: InferenceSpeed?
        /// In words, against the base (variants only; `faster` only when speed was measured).
        public var smaller: String?
        public var faster: String?

        enum CodingKeys: String, CodingKey {
            case model, source, role, format, parameters, fileBytes = "file_bytes", bitsPerWeight = "bits_per_weight",
                 evaluation, comparison = "against_base", speed, smaller, faster
        }

        public var isBase: Bool { role == "base" }
    }

    enum CodingKeys: String, CodingKey {
        case data, skippedCharacters = "skipped_characters", contextLength = "context_length", windows, tokens, threads,
             processPeakResidentBytes = "process_peak_rss_bytes", models
    }

    /// Where a measurement is, reported in order.
    public enum Progress: Equatable, Sendable {
        case loading(model: String)
        /// The speed test of model `index` (from 1) of `count`.
        case measuringSpeed(model: String, index: Int, count: Int)
        case scoring(done: Int, total: Int)
    }

    /// Loads and measures the models of `request`. `isCancelled` is polled between models and before
    /// scoring (`.cancelled` is thrown).
    public static func measure(_ request: ComparisonRequest, progress: (Progress) -> Void = { _ in },
                               isCancelled: () -> Bool = { false }) throws -> ComparisonReport {
        func checkCancelled() throws {
            if isCancelled() { throw WhittleError(.cancelled, "comparison cancelled") }
        }
        var loaded: [LoadedModel] = []
        for path in request.models {
            try checkCancelled()
            progress(.loading(model: path))
            loaded.append(try LoadedModel.load(path))
        }
        guard let base = loaded.first else {
            throw WhittleError.config("nothing to compare", hint: "name a base model and at least one variant")
        }
        let variants = Array(loaded.dropFirst())
        try Comparator.checkTokenizers(base: base, variants: variants)
        let text = try ModelText.load(file: request.data, split: .validation, skipUnknown: request.skipUnknown,
                                      tokenizer: base.tokenizer, directories: [base.source])
        var speeds: [InferenceSpeed?] = Array(repeating: nil, count: loaded.count)
        if let speed = request.speed {
            for (i, model) in loaded.enumerated() {
                try checkCancelled()
                progress(.measuringSpeed(model: model.shortName, index: i + 1, count: loaded.count))
                speeds[i] = try InferenceBench.measure(weights: model.weights, threads: speed.threads,
                                                       promptTokens: speed.promptTokens, decodeTokens: speed.decodeTokens,
                                                       repetitions: speed.repetitions)
            }
        }
        try checkCancelled()
        // Speed first, so each model's peak RSS is not the evaluation's buffers.
        let comparison = try withoutActuallyEscaping(progress) { progress in
            try Comparator.compare(base: base, variants: variants, tokens: text.tokens,
                                   contextLength: request.contextLength, batchSize: request.batchSize) {
                progress(.scoring(done: $0, total: $1))
            }
        }
        var rows = loaded.enumerated().map { i, model in
            Row(model: request.models[i], source: model.source, role: i == 0 ? "base" : "variant",
                format: model.formatSummary, parameters: model.parameterCount,
                fileBytes: model.weightsFileBytes, bitsPerWeight: model.bitsPerWeight,
                evaluation: i == 0 ? comparison.base : comparison.variants[i - 1].evaluation,
                comparison: i == 0 ? nil : comparison.variants[i - 1], speed: speeds[i])
        }
        for i in rows.indices.dropFirst() {
            rows[i].smaller = Verdict.smaller(base: rows[0].fileBytes, variant: rows[i].fileBytes)
            if let b = rows[0].speed, let v = rows[i].speed { rows[i].faster = Verdict.faster(base: b, variant: v) }
            // A pruned variant stored sparse computes dense on the base's shapes: it cannot be faster, whatever the timer says.
            if let measured = rows[i].faster, loaded[i].weightsFile.hasSuffix(ModelDirectory.sparseWeightsName), loaded[i].config == base.config {
                let figures = measured.split(separator: ":", maxSplits: 1).last.map(String.init) ?? measured
                rows[i].faster = "no: pruned weights are stored sparse but computed dense on the base's shapes (measured\(figures): noise)"
            }
        }
        return ComparisonReport(data: text.source, skippedCharacters: text.skippedCharacters,
                                contextLength: comparison.contextLength, windows: comparison.windows,
                                tokens: comparison.tokens, threads: request.speed?.threads,
                                processPeakResidentBytes: ProcessMemory.peakResidentBytes(), models: rows)
    }

    /// The report as `whittle compare --json` prints it (keys sorted).
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
