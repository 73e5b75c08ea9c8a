// Calibration statistics for rounding algorithms: N context windows drawn (seeded) from a named
// split — train by default, never the validation split — run through the fp32 forward pass; after
// each batch the inputs of every linear layer are still in the activation arena (`ln1` for c_attn,
// `attentionOut` for the attention c_proj, `ln2` for c_fc, `fcGelu` for the MLP c_proj, `lnf` for the
// tied head), and each layer's Hessian H = Σ xᵀx (K×K), per-input mean |x| and mean x² (diag H / n,
// what llama.cpp's imatrix stores) are accumulated. Each batch's XᵀX is an fp32 BLAS product over at
// most `batchWindows · T` rows, added into Double sums. The memory needed is checked before anything
// is allocated.

/// Where calibration text comes from.
public enum CalibrationSplit: String, CaseIterable, Equatable, Sendable, Codable {
    /// The training split (the default).
    case train
    /// The validation split: always refused (evaluation must not see calibration text).
    case validation
}

/// One linear layer's input statistics.
public struct LayerStatistics: Sendable {
    /// The weight tensor the inputs feed (`h.0.attn.c_attn.weight`, …, `wte.weight` for the tied head).
    public let tensor: String
    /// Input width K.
    public let inputs: Int
    /// Calibration tokens (rows of X) seen.
    public let tokens: Int
    /// H = Σ xᵀx, K×K row-major.
    public let hessian: [Double]
    /// Mean |xⱼ| per input (AWQ's activation scale statistic).
    public let meanAbsolute: [Double]
    /// Mean xⱼ² per input: diag(H) / tokens, llama.cpp's importance matrix entry.
    public var meanSquare: [Double] { (0..<inputs).map { hessian[$0 * inputs + $0] / Double(max(tokens, 1)) } }
}

/// Statistics of every linear layer's inputs over the calibration windows.
public struct CalibrationStatistics: Sendable {
    public let split: String
    public let samples: Int
    public let seed: UInt64
    public let contextLength: Int
    /// Per weight tensor name.
    public let layers: [String: LayerStatistics]

    public subscript(tensor: String) -> LayerStatistics? { layers[tensor] }
    public var tokens: Int { samples * contextLength }

    /// Progress of a collection: windows done of the total.
    public struct Progress: Equatable, Sendable {
        public let windowsDone: Int
        public let windows: Int
    }

    /// Each layer's input width and weight tensor, in model order (c_attn, attn c_proj, c_fc, mlp c_proj per block; the head).
    static func sites(_ d: GPTDimensions) -> [(tensor: String, inputs: Int)] {
        var sites: [(String, Int)] = []
        for l in 0..<d.L {
            let p = "h.\(l)."
            sites += [(p + "attn.c_attn.weight", d.C), (p + "attn.c_proj.weight", d.attentionWidth(l)),
                      (p + "mlp.c_fc.weight", d.C), (p + "mlp.c_proj.weight", d.layers[l].hiddenWidth)]
        }
        sites.append(("wte.weight", d.C))
        return sites
    }

    /// Bytes a collection holds for `d` with `batchWindows` windows of T per forward: the Double Hessians
    /// and statistics, the fp32 product scratch, and the fp32 activation arena.
    public static func bytesNeeded(_ d: GPTDimensions, contextLength T: Int, batchWindows: Int = 8) -> Int {
        let sites = Self.sites(d)
        let statistics = sites.reduce(0) { $0 + ($1.inputs * $1.inputs + 2 * $1.inputs) * 8 }
        let widest = sites.map(\.inputs).max() ?? 0
        let arena = ActivationArena.byteCounts(dimensions: d, B: batchWindows, T: T)
        return statistics + widest * widest * 4 + arena.activations + arena.scratch
    }

    /// Collects statistics over `samples` windows of the model's context length drawn with `seed` from
    /// `split` of `splits`. Throws `.invalidConfig` for the validation split, fewer than one sample or more
    /// bytes than `memoryLimit`; `.invalidData` when the split is shorter than one window.
    public static func collect(model: GPTModel, splits: TokenSplits, split: CalibrationSplit = .train, samples: Int,
                               seed: UInt64, contextLength: Int? = nil, memoryLimit: Int = 1 << 31,
                               progress: (Progress) -> Void = { _ in }) throws -> CalibrationStatistics {
        guard split != .validation else {
            throw WhittleError.config("calibration text cannot come from the validation split",
                                      hint: "calibrate on the train split (the default) or on a text of its own; validation text must stay unseen for evaluation")
        }
        return try collect(model: model, tokens: splits.train, name: split.rawValue, samples: samples, seed: seed,
                           contextLength: contextLength, memoryLimit: memoryLimit, progress: progress)
    }

    /// Collects statistics from windows of `tokens`, a calibration text called `name` (not the validation split).
    /// `isCancelled` is polled between batches of windows (`.cancelled` is thrown).
    public static func collect(model: GPTModel, tokens: [Int32], name: String, samples: Int, seed: UInt64,
                               contextLength: Int? = nil, memoryLimit: Int = 1 << 31,
                               progress: (Progress) -> Void = { _ in },
                               isCancelled: () -> Bool = { false }) throws -> CalibrationStatistics {
        let d = model.config.dimensions
        let T = contextLength ?? model.config.contextLength
        guard T >= 1, T <= d.maxT else {
            throw WhittleError.config("the calibration context (\(T) tokens) must be within 1...\(d.maxT)",
                                      hint: "use the model's context length (\(d.maxT)) or less")
        }
        guard samples >= 1 else {
            throw WhittleError.config("the calibration sample count must be at least 1 (got \(samples))",
                                      hint: "pass a number of calibration windows, e.g. 128")
        }
        guard tokens.count >= T else {
            throw WhittleError.data("the calibration text '\(name)' has \(tokens.count) tokens; one window of \(T) needs at least \(T)",
                                    hint: "use a longer calibration text or a shorter context")
        }
        for token in tokens where token < 0 || Int(token) >= d.V {
            throw WhittleError.data("the calibration text '\(name)' holds token id \(token), outside the model's vocabulary of \(d.V)",
                                    hint: "tokenize the calibration text with the model's own tokenizer")
        }
        let batchWindows = min(8, samples)
        let needed = bytesNeeded(d, contextLength: T, batchWindows: batchWindows)
        guard needed <= memoryLimit else {
            throw WhittleError.config("calibration statistics need \(needed) bytes (\(needed >> 20) MiB), over the limit of \(memoryLimit >> 20) MiB",
                                      hint: "raise the memory limit or quantize a smaller model; the Hessians take K² Doubles per layer")
        }
        let sites = Self.sites(d)
        var hessians = sites.map { [Double](repeating: 0, count: $0.inputs * $0.inputs) }
        var absolute = sites.map { [Double](repeating: 0, count: $0.inputs) }
        let widest = sites.map(\.inputs).max() ?? 0
        let product = FloatBuffer(count: widest * widest)
        var generator = RandomGenerator(seed: seed)
        let weights = model.weights
        var arena: ActivationArena? = nil
        var done = 0
        while done < samples {
            guard !isCancelled() else { throw WhittleError(.cancelled, "calibration cancelled") }
            let B = min(batchWindows, samples - done)
            if arena?.B != B { arena = ActivationArena(dimensions: d, B: B, T: T) }
            let a = arena!
            for b in 0..<B {
                let offset = tokens.count > T ? generator.nextInt(below: tokens.count - T + 1) : 0
                for t in 0..<T { a.tokens[b * T + t] = tokens[offset + t] }
            }
            GPT.forward(weights: weights, arena: a, withTargets: false)
            for (index, site) in sites.enumerated() {
                let x = input(of: index, arena: a)
                accumulate(x, rows: B * T, width: site.inputs, product: product.pointer,
                           hessian: &hessians[index], absolute: &absolute[index])
            }
            done += B
            progress(Progress(windowsDone: done, windows: samples))
        }
        let count = samples * T
        var layers: [String: LayerStatistics] = [:]
        for (index, site) in sites.enumerated() {
            layers[site.tensor] = LayerStatistics(tensor: site.tensor, inputs: site.inputs, tokens: count,
                                                  hessian: hessians[index],
                                                  meanAbsolute: absolute[index].map { $0 / Double(count) })
        }
        return CalibrationStatistics(split: name, samples: samples, seed: seed, contextLength: T, layers: layers)
    }

    /// The arena buffer holding the inputs of site `index` (in `sites` order).
    private static func input(of index: Int, arena a: ActivationArena) -> UnsafePointer<Float> {
        let l = index / 4
        guard l < a.dimensions.L else { return UnsafePointer(a.lnf.pointer) }
        switch index % 4 {
        case 0: return UnsafePointer(a.ln1[l].pointer)
        case 1: return UnsafePointer(a.attentionOut[l].pointer)
        case 2: return UnsafePointer(a.ln2[l].pointer)
        default: return UnsafePointer(a.fcGelu[l].pointer)
        }
    }

    /// hessian += XᵀX (an fp32 product of this batch's rows, added in Double); absolute += Σ|x|.
    private static func accumulate(_ x: UnsafePointer<Float>, rows: Int, width K: Int, product: UnsafeMutablePointer<Float>,
                                   hessian: inout [Double], absolute: inout [Double]) {
        hessian.withUnsafeMutableBufferPointer { h in
            absolute.withUnsafeMutableBufferPointer { s in
                SymmetricMatrix.accumulateGram(x, rows: rows, n: K, scratch: product, hessian: h.baseAddress!, absolute: s.baseAddress!)
            }
        }
    }
}
