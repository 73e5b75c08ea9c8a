// Test support: the small, deterministic data the tests train on — corpora (a repeated pangram and
// a seeded word stream) and the tiny model shapes and run configs built over them. Every value is
// a pure function of its arguments, so a failing test repeats exactly.

import Foundation
import WhittleEngine

/// Deterministic training text.
public enum TinyCorpus {
    /// "the quick brown fox jumps over the lazy dog. " repeated: every lowercase letter, a space and
    /// a full stop (29 characters), no capitals.
    public static func pangram(repeats: Int = 60) -> String {
        String(repeating: "the quick brown fox jumps over the lazy dog. ", count: repeats)
    }

    /// Words of `seededWords`: lowercase letters only, so capitals are characters no model has seen.
    public static let words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "cat",
                               "sat", "on", "mat", "with", "a", "hat", "of", "red", "wool"]

    /// At least `bytes` bytes of lines of eight `words` each ending in a full stop, drawn by a
    /// 64-bit LCG (Knuth's MMIX constants) from `seed`.
    public static func seededWords(bytes: Int = 4000, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> String {
        var state = seed
        var text = ""
        while text.utf8.count < bytes {
            var line: [String] = []
            for _ in 0..<8 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                line.append(words[Int(state >> 33) % words.count])
            }
            text += line.joined(separator: " ") + ".\n"
        }
        return text
    }
}

/// Tiny model shapes and run configs (a step takes about a millisecond).
public enum TinyTraining {
    /// The default config with a small model shape; the dataset path is `dataset` (not read here).
    public static func shape(layers: Int = 2, heads: Int = 2, width: Int = 16, context: Int = 16, batch: Int = 4,
                             dataset: String = "corpus.txt") -> TrainingConfig {
        var config = TrainingConfig()
        config.layerCount = layers
        config.headCount = heads
        config.embeddingWidth = width
        config.contextLength = context
        config.batchSize = batch
        config.datasetPath = dataset
        return config
    }

    /// Writes `corpus` to `directory/corpus.txt` and returns a 2-layer, width-16 run over it: 8 steps,
    /// warm-up 2, an estimate (2 batches) and a checkpoint every 4 steps, `workers` workers, one BLAS thread.
    public static func config(in directory: String, workers: Int = 1,
                              corpus: String = TinyCorpus.pangram()) throws -> TrainingConfig {
        let path = directory + "/corpus.txt"
        try corpus.write(toFile: path, atomically: true, encoding: .utf8)
        var config = shape(dataset: path)
        config.maxIterations = 8
        config.warmupIterations = 2
        config.evalInterval = 4
        config.evalIterations = 2
        config.checkpointInterval = 4
        config.workers = workers
        config.blasThreads = 1
        return config
    }
}
