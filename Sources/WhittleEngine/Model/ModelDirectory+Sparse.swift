// Pruned weights stored in the bytes they need: `model.sparse.safetensors` holds every dense tensor
// as in `model.safetensors`, and each pruned tensor as two: `NAME.kept`, a U8 bitmap over its
// elements in the file's (Conv1D) order (bit i of byte i/8, least significant first; 1 = kept), and
// `NAME.values`, the kept values in that order (F32). At 50% sparsity a matrix takes 4·0.5 + 1/8 =
// 2.125 bytes per weight instead of 4. The bitmap is the pruning mask, so a recovery run started
// from such a directory, and its checkpoints (written the same way), keep it exactly. Only Whittle
// reads the file; `whittle export --format hf` writes the plain dense directory transformers loads.
// Read as hostile input: the bitmap's length, the number of kept bits and the value count must agree.

import Foundation

extension ModelDirectory {
    /// The weights file of a model directory whose pruned tensors are stored sparse.
    public static let sparseWeightsName = "model.sparse.safetensors"
    static let keptSuffix = ".kept"
    static let valuesSuffix = ".values"
    /// The metadata a sparse weights file carries (with the caller's).
    static let sparseMetadata = ["format": "pt", "whittle_sparse": "bitmap (U8, LSB first, 1 = kept) + kept values (F32) per pruned tensor"]

    /// The weights file in `directory`: `model.safetensors`, else `model.sparse.safetensors`.
    public static func weightsFile(in directory: String) throws -> String {
        if FileIO.exists(directory + "/" + weightsName) { return directory + "/" + weightsName }
        if FileIO.exists(directory + "/" + sparseWeightsName) { return directory + "/" + sparseWeightsName }
        throw WhittleError.file("\(directory) has no \(weightsName) (nor \(sparseWeightsName))",
                                hint: "a model directory holds config.json, model.safetensors and tokenizer.json")
    }

    /// `model.sparse.safetensors` for `model` with `mask`'s tensors stored as bitmap + kept values.
    static func sparseWeights(model: GPTModel, mask: SparsityMask, metadata: [String: String]) throws -> [UInt8] {
        var tensors: [SafetensorsWriter.RawTensor] = []
        for tensor in model.layout.tensors {
            let p = model.parameters.pointer + tensor.offset
            guard let entry = mask[tensor.name] else {
                tensors.append(.init(name: namePrefix + tensor.name, dataType: .f32, shape: tensor.shape,
                                     bytes: littleEndian(UnsafeBufferPointer(start: p, count: tensor.count))))
                continue
            }
            precondition(entry.count == tensor.count && entry.offset == tensor.offset, "\(tensor.name): the mask is of another layout")
            var kept: [Float] = []
            kept.reserveCapacity(entry.keptCount)
            for i in 0..<tensor.count where entry.isKept(i) { kept.append(p[i]) }
            tensors.append(.init(name: namePrefix + tensor.name + keptSuffix, dataType: .u8, shape: [entry.kept.count], bytes: entry.kept))
            tensors.append(.init(name: namePrefix + tensor.name + valuesSuffix, dataType: .f32, shape: [kept.count],
                                 bytes: kept.withUnsafeBufferPointer { littleEndian($0) }))
        }
        return try SafetensorsWriter.serialize(tensors, metadata: metadata.merging(sparseMetadata) { $1 })
    }

    static func littleEndian(_ values: UnsafeBufferPointer<Float>) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: values.count * 4)
        for (i, value) in values.enumerated() {
            let bits = value.bitPattern
            bytes[4 * i] = UInt8(truncatingIfNeeded: bits)
            bytes[4 * i + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            bytes[4 * i + 2] = UInt8(truncatingIfNeeded: bits >> 16)
            bytes[4 * i + 3] = UInt8(truncatingIfNeeded: bits >> 24)
        }
        return bytes
    }

    /// Fills `model` from a sparse weights file and returns the mask its bitmaps describe.
    static func fillSparse(_ model: GPTModel, from weights: SafetensorsFile, source: String) throws -> SparsityMask {
        var expected = Set<String>()
        var entries: [SparsityMask.Entry] = []
        for tensor in model.layout.tensors {
            let name = namePrefix + tensor.name
            let destination = model.parameters.pointer + tensor.offset
            guard let keptInfo = weights.info(name + keptSuffix) else {
                guard let info = weights.info(name) else {
                    throw WhittleError.file("\(source) has no tensor \(name) (nor \(name + keptSuffix))",
                                            hint: "the file does not match config.json; re-create the variant")
                }
                guard info.shape == tensor.shape else {
                    throw WhittleError.file("\(source): tensor \(name) has shape \(info.shape), config.json implies \(tensor.shape)",
                                            hint: "the weights and config.json disagree; re-create the variant")
                }
                expected.insert(name)
                try copyFinite(try weights.floats(name), to: destination, name: name, source: source)
                continue
            }
            expected.formUnion([name + keptSuffix, name + valuesSuffix])
            let bitmapBytes = (tensor.count + 7) / 8
            guard keptInfo.dataType == .u8, keptInfo.shape == [bitmapBytes] else {
                throw WhittleError.file("\(source): \(name + keptSuffix) must be U8 of shape [\(bitmapBytes)] (one bit per element of \(tensor.shape))",
                                        hint: "the file is damaged; re-create the variant")
            }
            let bitmap = Array(try weights.rawBytes(name + keptSuffix))
            if tensor.count % 8 != 0, bitmap[bitmapBytes - 1] >> UInt8(tensor.count % 8) != 0 {
                throw WhittleError.file("\(source): \(name + keptSuffix) sets bits past the tensor's \(tensor.count) elements", hint: "the file is damaged; re-create the variant")
            }
            let entry = SparsityMask.Entry(tensor: tensor.name, offset: tensor.offset, count: tensor.count, kept: bitmap)
            guard let valuesInfo = weights.info(name + valuesSuffix), valuesInfo.shape == [entry.keptCount] else {
                throw WhittleError.file("\(source): \(name + valuesSuffix) must hold \(entry.keptCount) values (the bits set in \(name + keptSuffix))",
                                        hint: "the file is damaged; re-create the variant")
            }
            let values = try weights.floats(name + valuesSuffix)
            var dense = [Float](repeating: 0, count: tensor.count)
            var next = 0
            for i in 0..<tensor.count where entry.isKept(i) {
                dense[i] = values[next]
                next += 1
            }
            try copyFinite(dense, to: destination, name: name, source: source)
            entries.append(entry)
        }
        for name in weights.tensorNames where !expected.contains(name) {
            throw WhittleError.file("\(source) has an unexpected tensor \(name)", hint: "the file does not match config.json; re-create the variant")
        }
        return SparsityMask(entries: entries)
    }

    private static func copyFinite(_ values: [Float], to destination: UnsafeMutablePointer<Float>, name: String, source: String) throws {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw WhittleError.file("\(source): tensor \(name) holds a non-finite value (\(values[bad]) at element \(bad))",
                                    hint: "the model diverged or the file is damaged; use an earlier checkpoint")
        }
        values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: values.count) }
    }
}
