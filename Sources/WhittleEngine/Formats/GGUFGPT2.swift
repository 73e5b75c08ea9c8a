// A Whittle model as a GGUF file that llama.cpp's `gpt2` architecture loads: its metadata keys, its
// tensor names, matrices as `[out, in]` rows, every bias present (zeros for a bias-free model: the
// `gpt2` graph adds them unconditionally), the head tied to `token_embd` (no `output.weight`), and
// the character vocabulary as a `gpt2` tokenizer in byte-level spelling with one merge that never
// fires and no BOS/EOS added. The key and tensor order is the one the reference writer (the `gguf`
// Python package, shared/fixtures/gguf-reference) used, so equal weights give byte-identical files.
// Reading it back is `GGUFGPT2+Reading.swift`.

/// Maps Whittle models to and from llama.cpp's `gpt2` GGUF layout.
public enum GPT2GGUF {
    /// The merge list's single entry: a pair whose merged token ("QQ") is not in a character vocabulary,
    /// so llama.cpp would spell it with the two characters' own tokens even if it fired.
    static let merge = "Q Q"
    /// `general.quantization_version` written when any tensor is block-quantized (ggml's `GGML_QNT_VERSION`).
    static let quantizationVersion: UInt32 = 2

    /// Most blocks llama.cpp loads (`LLAMA_MAX_LAYERS`).
    static let maxBlocks = 512

    /// llama.cpp's `llama_ftype` for files whose matrices are mostly of each GGUF type.
    static let fileTypeOfGGUFType: [UInt32: UInt32] = [0: 0, 1: 1, 2: 2, 3: 3, 6: 8, 7: 9, 8: 7, 30: 32]

    /// The GGUF name of a tensor of Whittle's layout.
    static func name(_ tensor: ParameterTensor) -> String { name(tensor.role, layer: tensor.layer) }

    static func name(_ role: TensorRole, layer: Int?) -> String {
        let block = layer.map { "blk.\($0)." } ?? ""
        switch role {
        case .tokenEmbedding: return "token_embd.weight"
        case .positionEmbedding: return "position_embd.weight"
        case .normGain(let site): return block + normName(site) + ".weight"
        case .normBias(let site): return block + normName(site) + ".bias"
        case .weight(let site): return block + linearName(site) + ".weight"
        case .bias(let site): return block + linearName(site) + ".bias"
        }
    }

    static func normName(_ site: NormSite) -> String {
        switch site {
        case .attention: "attn_norm"
        case .mlp: "ffn_norm"
        case .final: "output_norm"
        }
    }

    static func linearName(_ site: LinearSite) -> String {
        switch site {
        case .qkv: "attn_qkv"
        case .attentionOutput: "attn_output"
        case .mlpUp: "ffn_up"
        case .mlpDown: "ffn_down"
        }
    }

    /// ggml's `ne` for a tensor of Whittle's fp32 layout once written: `[in, out]` for matrices
    /// (stored `[out, in]`), `[C, rows]` for the embeddings, `[n]` for vectors.
    static func ggufDimensions(_ tensor: ParameterTensor) -> [Int] {
        tensor.orientation == .inputMajor ? tensor.shape : tensor.shape.reversed()
    }

    /// Writes `store` as a GGUF file at `path`, atomically (see `serialize` and `GGUFWriter.write`).
    public static func write(store: WeightStore, config: ModelConfig, tokenizer: CharTokenizer, name: String, to path: String) throws {
        try GGUFWriter.write(try serialize(store: store, config: config, tokenizer: tokenizer, name: name), to: path)
    }

    /// The MLP width of every block, or an error when llama.cpp's `gpt2` graph cannot express the blocks.
    static func feedForwardLength(_ config: ModelConfig) throws -> Int {
        let shapes = config.layers
        guard let first = shapes.first, shapes.allSatisfy({ $0 == first }), first.heads == config.headCount else {
            let listed = shapes.enumerated().map { "block \($0.offset): \($0.element.heads) heads, MLP \($0.element.hiddenWidth)" }
            throw WhittleError.config("llama.cpp's gpt2 architecture needs every block to have n_head (\(config.headCount)) heads and one MLP width; this model has \(listed.prefix(4).joined(separator: "; "))\(listed.count > 4 ? "; …" : "")",
                                      hint: "store pruned or distilled models with per-block shapes as safetensors; GGUF needs a uniform GPT-2")
        }
        return first.hiddenWidth
    }

    /// The bytes of a GGUF file holding `store` (a model of `config`) and `tokenizer`, named `name`
    /// (`general.name`). Throws `.config` if the blocks differ in shape (llama.cpp's `gpt2` cannot
    /// express that) and `.file` if the store, config and tokenizer disagree.
    public static func serialize(store: WeightStore, config: ModelConfig, tokenizer: CharTokenizer, name: String) throws -> [UInt8] {
        try config.validate()
        let ffn = try feedForwardLength(config)
        guard config.layerCount <= maxBlocks else {
            throw WhittleError.config("llama.cpp loads at most \(maxBlocks) blocks; this model has \(config.layerCount)",
                                      hint: "keep the model in safetensors")
        }
        guard store.layout == ParameterLayout(config.dimensions) else {
            throw WhittleError.file("the weights do not have the shape config describes",
                                    hint: "this is a bug in the caller: pass the store made from this model")
        }
        guard tokenizer.vocabularySize == config.vocabularySize else {
            throw WhittleError.file("the tokenizer has \(tokenizer.vocabularySize) symbols but the model's vocabulary is \(config.vocabularySize)",
                                    hint: "pass the tokenizer the model was trained with")
        }
        if let tensor = store.tensors.first(where: { GGMLType($0.format) == nil }) {
            throw WhittleError.config("\(tensor.name) is stored as \(tensor.format), which has no GGUF type llama.cpp could load",
                                      hint: "store it in a GGUF type (\(WeightFormat.allCases.filter { GGMLType($0) != nil }.map(\.rawValue).joined(separator: ", ")))")
        }
        let metadata = self.metadata(config: config, ffn: ffn, tokenizer: tokenizer, name: name, fileType: fileType(store))
        return try GGUFWriter.serialize(metadata: metadata, tensors: tensors(store))
    }

    static func metadata(config: ModelConfig, ffn: Int, tokenizer: CharTokenizer, name: String,
                         fileType: (type: UInt32, quantized: Bool)) -> [(key: String, value: GGUFValue)] {
        var metadata: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string("gpt2")),
            ("general.name", .string(name)),
            ("gpt2.context_length", .uint32(UInt32(config.contextLength))),
            ("gpt2.embedding_length", .uint32(UInt32(config.embeddingWidth))),
            ("gpt2.feed_forward_length", .uint32(UInt32(ffn))),
            ("gpt2.block_count", .uint32(UInt32(config.layerCount))),
            ("gpt2.attention.head_count", .uint32(UInt32(config.headCount))),
            ("gpt2.attention.layer_norm_epsilon", .float32(config.layerNormEpsilon)),
            ("general.file_type", .uint32(fileType.type)),
        ]
        if fileType.quantized { metadata.append(("general.quantization_version", .uint32(quantizationVersion))) }
        metadata += [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("gpt-2")),
            ("tokenizer.ggml.tokens", .array(.string(tokenizer.symbols.map(GPT2ByteLevel.spell)))),
            ("tokenizer.ggml.token_type", .array(.int32(Array(repeating: 1, count: tokenizer.vocabularySize)))),
            ("tokenizer.ggml.merges", .array(.string([merge]))),
            ("tokenizer.ggml.add_bos_token", .bool(false)),
            ("tokenizer.ggml.add_eos_token", .bool(false)),
        ]
        return metadata
    }

    /// llama.cpp's file type: the format most matrix weights are stored in; and whether any tensor is block-quantized.
    static func fileType(_ store: WeightStore) -> (type: UInt32, quantized: Bool) {
        fileType(store.layout, formats: store.tensors.map(\.format))
    }

    /// The file type of `layout`'s tensors stored in `formats` (one per tensor, in layout order).
    static func fileType(_ layout: ParameterLayout, formats: [WeightFormat]) -> (type: UInt32, quantized: Bool) {
        var weightsByFormat: [WeightFormat: Int] = [:]
        for (tensor, format) in zip(layout.tensors, formats) where tensor.role.isLinearWeight {
            weightsByFormat[format, default: 0] += tensor.count
        }
        let dominant = weightsByFormat.max { ($0.value, $1.key.rawValue) < ($1.value, $0.key.rawValue) }?.key ?? .f32
        let quantized = formats.contains { $0.isQuantized }
        return (dominant.traits.ggufType.flatMap { fileTypeOfGGUFType[$0] } ?? 0, quantized)
    }

    /// The tensors in the reference writer's order: embeddings, the final LayerNorm, then each block.
    static func tensors(_ store: WeightStore) -> [GGUFWriter.Tensor] {
        let layout = store.layout.tensors
        let hasBias = store.layout.dimensions.hasBias
        var out: [GGUFWriter.Tensor] = []
        func emit(_ index: Int) {
            let source = layout[index], stored = store.tensors[index]
            out.append(GGUFWriter.Tensor(name: name(source), dimensions: ggufDimensions(source),
                                         type: GGMLType(stored.format)!, bytes: rowMajorBytes(store, stored)))
            guard !hasBias else { return }
            let bias: TensorRole? = switch source.role {
            case .normGain(let site): .normBias(site)
            case .weight(let site): .bias(site)
            default: nil
            }
            guard let bias else { return }
            let width = source.orientation == .inputMajor ? source.shape[1] : source.shape[0]
            out.append(GGUFWriter.Tensor(name: name(bias, layer: source.layer), dimensions: [width], type: GGMLType(.f32)!,
                                         bytes: [UInt8](repeating: 0, count: width * 4)))
        }
        let final = layout.indices.filter { layout[$0].role == .normGain(.final) || layout[$0].role == .normBias(.final) }
        for index in layout.indices where layout[index].layer == nil && !final.contains(index) { emit(index) }
        final.forEach(emit)
        for index in layout.indices where layout[index].layer != nil { emit(index) }
        return out
    }

    /// A stored tensor's bytes with rows along the reduction axis (input-major matrices transposed).
    static func rowMajorBytes(_ store: WeightStore, _ tensor: ParameterTensor) -> [UInt8] {
        let source = UnsafeRawBufferPointer(start: store.data(tensor), count: tensor.byteCount)
        guard tensor.orientation == .inputMajor else { return Array(source) }
        let (inputs, outputs) = (tensor.shape[0], tensor.shape[1])
        let size = tensor.format.traits.bytesPerBlock   // a scalar format: one value per "block"
        var out = [UInt8](repeating: 0, count: tensor.byteCount)
        out.withUnsafeMutableBytes { destination in
            for o in 0..<outputs {
                for k in 0..<inputs {
                    (destination.baseAddress! + (o * inputs + k) * size)
                        .copyMemory(from: source.baseAddress! + (k * outputs + o) * size, byteCount: size)
                }
            }
        }
        return out
    }
}
