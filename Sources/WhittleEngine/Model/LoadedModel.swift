// A model ready to run, whatever its weights are stored in: a model or checkpoint directory
// (fp32 safetensors), a compressed variant directory (`model.gguf`), or a bare `.gguf` file.
// Evaluation, generation and comparisons take one of these, so every variant runs on its own
// kernels through the one forward pass, never through a silent conversion to fp32.

import Foundation

/// A model's shape, tokenizer and weights (in their stored formats), and where they came from.
public final class LoadedModel: @unchecked Sendable {
    public let config: ModelConfig
    public let tokenizer: CharTokenizer
    /// What the forward pass reads; valid while this object is alive.
    public let weights: ModelWeights
    /// The directory (or GGUF file) the model was loaded from.
    public let source: String
    /// The file holding the weights, and its size on disk.
    public let weightsFile: String
    public let weightsFileBytes: Int
    /// Bytes of the weights in memory as stored (all formats), without alignment padding.
    public let weightBytes: Int
    /// The fp32 model, when the weights are fp32 safetensors (training, pruning and export start from it).
    public let floatModel: GPTModel?
    /// Keeps the memory `weights` points into alive.
    private let storage: AnyObject

    /// A model already in memory (fp32).
    public init(model: GPTModel, tokenizer: CharTokenizer, source: String, weightsFile: String, weightsFileBytes: Int) {
        config = model.config
        self.tokenizer = tokenizer
        weights = model.weights
        self.source = source
        self.weightsFile = weightsFile
        self.weightsFileBytes = weightsFileBytes
        weightBytes = model.layout.byteCount
        floatModel = model
        storage = model
    }

    /// A model whose tensors are in a `WeightStore` (any formats).
    public init(config: ModelConfig, tokenizer: CharTokenizer, store: WeightStore, source: String, weightsFile: String,
                weightsFileBytes: Int) {
        self.config = config
        self.tokenizer = tokenizer
        weights = store.weights
        self.source = source
        self.weightsFile = weightsFile
        self.weightsFileBytes = weightsFileBytes
        weightBytes = store.payloadBytes
        floatModel = nil
        storage = store
    }

    /// The name a variant's GGUF weights have in its directory.
    public static let ggufName = "model.gguf"

    /// Loads `path`: a `.gguf` file, a directory holding `model.gguf`, or a model, checkpoint or run
    /// directory (`ModelDirectory.load`).
    public static func load(_ path: String) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists, !isDirectory.boolValue, path.hasSuffix(".gguf") { return try loadGGUF(path, source: path) }
        if exists, isDirectory.boolValue, FileManager.default.fileExists(atPath: path + "/" + ggufName) {
            if FileManager.default.fileExists(atPath: path + "/" + AtomicDirectory.manifestName) { try AtomicDirectory.verify(path) }
            return try loadGGUF(path + "/" + ggufName, source: path)
        }
        let loaded = try ModelDirectory.load(path)
        let file = try ModelDirectory.weightsFile(in: loaded.directory)
        return LoadedModel(model: loaded.model, tokenizer: loaded.tokenizer, source: loaded.directory, weightsFile: file,
                           weightsFileBytes: try fileSize(file))
    }

    private static func loadGGUF(_ file: String, source: String) throws -> LoadedModel {
        let model = try GPT2GGUF.read(path: file)
        return LoadedModel(config: model.config, tokenizer: model.tokenizer, store: model.store, source: source,
                           weightsFile: file, weightsFileBytes: try fileSize(file))
    }

    static func fileSize(_ path: String) throws -> Int {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw WhittleError.io("cannot read the size of \(path): \(error.localizedDescription)", hint: "check the path and permissions")
        }
    }

    /// Bits per parameter of the weights as stored (every tensor, scales included).
    public var bitsPerWeight: Double {
        Double(weightBytes * 8) / Double(weights.layout.totalCount)
    }
}
