// The size of the GGUF file `GPT2GGUF.serialize` would write, computed from the model's shape, its
// tokenizer and one format per tensor, without any weights: the header, metadata and tensor infos
// padded to the alignment, then every tensor's blocks padded (the zero biases of a bias-free model
// included). The workbench's Compress screen shows it before a pass is applied; a test checks it
// against the bytes `serialize` writes.

extension GPT2GGUF {
    /// Bytes of the GGUF file holding a model of `config` whose tensors (in `ParameterLayout(config.dimensions)`
    /// order) are stored in `formats`, with `tokenizer`, named `name`. Throws as `serialize` does for
    /// shapes llama.cpp's `gpt2` cannot express and for formats GGUF has no type for.
    public static func predictedFileBytes(config: ModelConfig, tokenizer: CharTokenizer, formats: [WeightFormat],
                                          name: String) throws -> Int {
        let layout = ParameterLayout(config.dimensions)
        precondition(formats.count == layout.tensors.count, "one format per tensor of the layout")
        let ffn = try feedForwardLength(config)
        let metadata = self.metadata(config: config, ffn: ffn, tokenizer: tokenizer, name: name,
                                     fileType: fileType(layout, formats: formats))
        let alignment = try GGUFFile.alignment(metadata)
        var header: [UInt8] = []
        GGUFWriter.append(GGUF.magic, to: &header)
        GGUFWriter.append(GGUF.version, to: &header)
        GGUFWriter.append(UInt64(0), to: &header)   // tensor count
        GGUFWriter.append(UInt64(0), to: &header)   // metadata count
        for (key, value) in metadata {
            GGUFWriter.append(key, to: &header)
            GGUFWriter.append(value, to: &header)
        }
        var headerBytes = header.count, dataBytes = 0
        func add(name: String, dimensions: [Int], bytes: Int) {
            headerBytes += 8 + name.utf8.count + 4 + 8 * dimensions.count + 4 + 8
            dataBytes += GGUFWriter.padded(bytes, alignment)
        }
        let hasBias = layout.dimensions.hasBias
        for (tensor, format) in zip(layout.tensors, formats) {
            guard let type = GGMLType(format) else {
                throw WhittleError.config("\(tensor.name) would be stored as \(format), which has no GGUF type llama.cpp could load",
                                          hint: "store it in a GGUF type (\(QuantizationPlan.storableFormats.map(\.rawValue).joined(separator: ", ")))")
            }
            add(name: Self.name(tensor), dimensions: ggufDimensions(tensor), bytes: tensor.count / type.blockSize * type.bytesPerBlock)
            guard !hasBias else { continue }
            let bias: TensorRole? = switch tensor.role {
            case .normGain(let site): .normBias(site)
            case .weight(let site): .bias(site)
            default: nil
            }
            guard let bias else { continue }
            let width = tensor.orientation == .inputMajor ? tensor.shape[1] : tensor.shape[0]
            add(name: Self.name(bias, layer: tensor.layer), dimensions: [width], bytes: width * 4)
        }
        return GGUFWriter.padded(headerBytes, alignment) + dataBytes
    }
}
