// A model on disk: `config.json` (Hugging Face GPT-2 keys), `model.safetensors` (GPT-2 tensor names,
// Conv1D layout, tied head omitted) and `tokenizer.json`. Checkpoints are model directories with
// optimizer and trainer state added, so every command that reads a model also reads a checkpoint.

import Foundation

public enum ModelDirectory {
    public static let configName = "config.json"
    public static let weightsName = "model.safetensors"
    public static let tokenizerName = "tokenizer.json"
    /// Tensor-name prefix Hugging Face's GPT2LMHeadModel uses.
    static let namePrefix = "transformer."
    /// Tensors Hugging Face files may carry that Whittle derives instead (causal-mask buffers, the tied head).
    static let derivedSuffixes = [".attn.bias", ".attn.masked_bias"]

    /// The metadata a dense weights file carries (with the caller's).
    static let denseMetadata = ["format": "pt"]

    /// The tensors of a dense `model.safetensors` for `layout`, in the order `files` writes them.
    static func denseDescriptors(_ layout: ParameterLayout) -> [SafetensorsWriter.TensorDescriptor] {
        layout.tensors.map { .init(name: namePrefix + $0.name, dataType: .f32, shape: $0.shape) }
    }

    /// The files of a model directory.
    /// With a `mask`, the weights are `model.sparse.safetensors` (pruned tensors as bitmap + kept values).
    public static func files(model: GPTModel, tokenizer: CharTokenizer, dropout: Float = 0,
                             metadata: [String: String] = [:], mask: SparsityMask? = nil) throws -> [(name: String, bytes: [UInt8])] {
        if let mask, !mask.entries.isEmpty {
            return [
                (configName, model.config.huggingFaceJSON(dropout: Double(dropout))),
                (sparseWeightsName, try sparseWeights(model: model, mask: mask, metadata: metadata)),
                (tokenizerName, tokenizer.tokenizerJSON()),
            ]
        }
        let tensors = model.layout.tensors.map { tensor in
            (name: namePrefix + tensor.name, shape: tensor.shape,
             values: Array(UnsafeBufferPointer(start: model.parameters.pointer + tensor.offset, count: tensor.count)))
        }
        return [
            (configName, model.config.huggingFaceJSON(dropout: Double(dropout))),
            (weightsName, try SafetensorsWriter.serialize(tensors: tensors, metadata: metadata.merging(denseMetadata) { $1 })),
            (tokenizerName, tokenizer.tokenizerJSON()),
        ]
    }

    /// Writes a model directory atomically (temporary directory, fsync, rename).
    public static func save(model: GPTModel, tokenizer: CharTokenizer, to path: String,
                            extraFiles: [(name: String, bytes: [UInt8])] = [], mask: SparsityMask? = nil) throws {
        try AtomicDirectory.publish(files: try files(model: model, tokenizer: tokenizer, mask: mask) + extraFiles, to: path)
    }

    /// Loads a model directory, a checkpoint directory, or a run directory (its newest complete checkpoint).
    public static func load(_ path: String, budget: ResourceBudget = .current()) throws -> (model: GPTModel, tokenizer: CharTokenizer, directory: String) {
        let loaded = try loadWithMask(path, budget: budget)
        return (loaded.model, loaded.tokenizer, loaded.directory)
    }

    /// `load`, and the pruning mask when the weights are stored sparse (`model.sparse.safetensors`).
    public static func loadWithMask(_ path: String, budget: ResourceBudget = .current()) throws
        -> (model: GPTModel, tokenizer: CharTokenizer, directory: String, mask: SparsityMask?) {
        let directory = try resolve(path)
        if FileManager.default.fileExists(atPath: directory + "/" + AtomicDirectory.manifestName) {
            try AtomicDirectory.verify(directory)
        }
        let config = try ModelConfig(huggingFaceJSON: try readFile(directory, configName))
        let tokenizer = try CharTokenizer(tokenizerJSON: try readFile(directory, tokenizerName))
        guard tokenizer.vocabularySize == config.vocabularySize else {
            throw WhittleError.file("\(directory): tokenizer.json has \(tokenizer.vocabularySize) symbols but config.json says vocab_size = \(config.vocabularySize)",
                                    hint: "the files come from different models; re-export the model")
        }
        let weightsPath = try weightsFile(in: directory)
        // Held to the memory budget before a tensor is read: the weights config.json implies, plus the file's own bytes.
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: weightsPath)[.size] as? Int) ?? 0
        try budget.check(config.approximateWeightBytes + Double(fileBytes),
                                           for: "the model in \(directory) (config.json: n_layer \(config.layerCount), n_embd \(config.embeddingWidth), n_positions \(config.contextLength), vocab_size \(config.vocabularySize))",
                                           fix: "config.json declares a model larger than this machine can hold; check it, or use a machine with more memory",
                                           kind: .invalidFile)
        let model = try GPTModel(config: config)
        let weights = try SafetensorsFile(path: weightsPath)
        guard weightsPath.hasSuffix(sparseWeightsName) else {
            try fill(model, from: weights, source: weightsPath)
            return (model, tokenizer, directory, nil)
        }
        let mask = try fillSparse(model, from: weights, source: weightsPath)
        return (model, tokenizer, directory, mask)
    }

    /// Copies every tensor of the layout from `weights`, checking names, shapes and values.
    static func fill(_ model: GPTModel, from weights: SafetensorsFile, source: String) throws {
        var expected = Set<String>()
        for tensor in model.layout.tensors {
            let name = weights.info(namePrefix + tensor.name) != nil ? namePrefix + tensor.name : tensor.name
            expected.insert(name)
            guard let info = weights.info(name) else {
                throw WhittleError.file("\(source) has no tensor \(namePrefix + tensor.name)",
                                        hint: "the file does not match config.json (layers, bias); check the model directory")
            }
            guard info.shape == tensor.shape else {
                throw WhittleError.file("\(source): tensor \(name) has shape \(info.shape), config.json implies \(tensor.shape)",
                                        hint: "the weights and config.json disagree; re-export the model")
            }
            let values = try weights.floats(name)
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw WhittleError.file("\(source): tensor \(name) holds a non-finite value (\(values[bad]) at element \(bad))",
                                        hint: "the model diverged or the file is damaged; use an earlier checkpoint")
            }
            values.withUnsafeBufferPointer { (model.parameters.pointer + tensor.offset).update(from: $0.baseAddress!, count: tensor.count) }
        }
        for name in weights.tensorNames where !expected.contains(name) {
            let tiedHead = name == "lm_head.weight"
            if tiedHead || derivedSuffixes.contains(where: name.hasSuffix) { continue }
            throw WhittleError.file("\(source) has an unexpected tensor \(name)",
                                    hint: "Whittle reads GPT-2 models only; check config.json matches the weights")
        }
    }

    /// A model or checkpoint directory for `path`: itself if it holds config.json, otherwise its newest
    /// complete `ckpt-*` subdirectory.
    public static func resolve(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WhittleError.file("no model directory at '\(path)'",
                                    hint: "give a directory holding config.json, model.safetensors and tokenizer.json, e.g. sample-models/shakespeare-char-tiny")
        }
        if FileManager.default.fileExists(atPath: path + "/" + configName) { return path }
        if let newest = try Checkpoint.newest(in: path) { return newest }
        throw WhittleError.file("'\(path)' holds neither a model (config.json) nor a complete checkpoint (ckpt-*)",
                                hint: "point --model at a model directory or a run directory written by `whittle train`")
    }

    static func readFile(_ directory: String, _ name: String) throws -> [UInt8] {
        try FileIO.readFile(try requireFile(directory, name))
    }

    /// The path of `name` in `directory`; throws `.file` ("DIR has no NAME") if it does not exist,
    /// so a missing config.json, tokenizer.json or model.safetensors reads the same (exit 65).
    static func requireFile(_ directory: String, _ name: String) throws -> String {
        let path = directory + "/" + name
        guard FileManager.default.fileExists(atPath: path) else {
            throw WhittleError.file("\(directory) has no \(name)",
                                    hint: "a model directory holds config.json, model.safetensors and tokenizer.json")
        }
        return path
    }
}
