// AWQ-style activation-aware scaling (Lin et al. 2023): a linear layer y = x·Wᵀ computes the same
// function as (x/s)·(W·diag s)ᵀ, and rounding W·diag(s) with s large on inputs whose activations are
// large protects the weights that matter. Per layer s = mean|x|^α (normalised by √(max·min)), with α on
// a grid in [0, 1) chosen to minimise the layer's output error ‖XWᵀ − X·diag(1/s)·Q(W·diag s)ᵀ‖², read
// from the calibration Hessian (tr ΔW·H·ΔWᵀ); α = 0 is plain round-to-nearest, so the choice never does
// worse on the calibration text. The 1/s goes where it is exact:
// - c_attn (after ln_1) and c_fc (after ln_2): into the LayerNorm's gain and bias (y/s = (g/s)·x̂ + b/s);
// - the attention c_proj: into the value columns of c_attn and their bias (attention is linear in V, so
//   each head's output channel is divided by its s);
// - the MLP c_proj: skipped (GELU(z)/s ≠ GELU(z/s)); the tied head: skipped (its scaled rows would also
//   be the token embedding).
// The result is a folded fp32 copy of the model; `Rounding` then stores it with each block's grid
// clipped as AWQ's `auto_clip` does (`BlockClipping`: the clip ratio with the least output error).

import Foundation

/// AWQ-style scaling folded into a model copy.
enum ActivationAwareScaling {
    struct Outcome {
        /// The folded model (same function as the input, up to fp32 rounding).
        let model: GPTModel
        /// Per scaled weight tensor: its input scales s (its stored inputs are x/s).
        let inputScales: [String: [Float]]
        /// Per scaled weight tensor: the chosen α.
        let alphas: [String: Double]
    }

    /// Folds scales for every exact site whose plan format is quantized. `grid` α values 0, 1/grid, ….
    static func fold(model: GPTModel, calibration: CalibrationStatistics, plan: (ParameterTensor) -> WeightFormat,
                     grid: Int, progress: (String) -> Void) throws -> Outcome {
        let folded = try GPTModel(config: model.config)
        folded.parameters.copy(from: model.parameters)
        let layout = model.layout, d = layout.dimensions, p = folded.parameters.pointer
        var scales: [String: [Float]] = [:], alphas: [String: Double] = [:]
        func tensor(_ name: String) -> ParameterTensor { layout.tensor(named: name)! }
        for l in 0..<d.L {
            let prefix = "h.\(l)."
            let A = d.attentionWidth(l)
            let qkv = tensor(prefix + "attn.c_attn.weight"), projection = tensor(prefix + "attn.c_proj.weight")
            let qkvBias = layout.tensor(named: prefix + "attn.c_attn.bias")
            // Attention c_proj ← c_attn's value columns.
            if plan(projection).isQuantized, let stats = calibration[projection.name] {
                progress(projection.name)
                let (s, alpha) = search(p + projection.offset, tensor: projection, stats: stats, format: plan(projection), grid: grid)
                scaleInputs(p + projection.offset, tensor: projection, by: s)
                let outputs = qkv.shape[1]
                for k in 0..<qkv.shape[0] {
                    for j in 0..<A { p[qkv.offset + k * outputs + 2 * A + j] /= s[j] }
                }
                if let qkvBias { for j in 0..<A { p[qkvBias.offset + 2 * A + j] /= s[j] } }
                scales[projection.name] = s; alphas[projection.name] = alpha
            }
            // c_attn ← ln_1, c_fc ← ln_2.
            for (name, norm) in [("attn.c_attn.weight", "ln_1"), ("mlp.c_fc.weight", "ln_2")] {
                let weight = tensor(prefix + name)
                guard plan(weight).isQuantized, let stats = calibration[weight.name] else { continue }
                progress(weight.name)
                let (s, alpha) = search(p + weight.offset, tensor: weight, stats: stats, format: plan(weight), grid: grid)
                scaleInputs(p + weight.offset, tensor: weight, by: s)
                for part in ["weight", "bias"] {
                    guard let vector = layout.tensor(named: prefix + norm + "." + part) else { continue }
                    for k in 0..<vector.count { p[vector.offset + k] /= s[k] }
                }
                scales[weight.name] = s; alphas[weight.name] = alpha
            }
        }
        return Outcome(model: folded, inputScales: scales, alphas: alphas)
    }

    /// Multiplies input row k of an input-major matrix ([in, out]) by s[k].
    private static func scaleInputs(_ w: UnsafeMutablePointer<Float>, tensor: ParameterTensor, by s: [Float]) {
        let outputs = tensor.shape[1]
        for k in 0..<tensor.shape[0] {
            for j in 0..<outputs { w[k * outputs + j] *= s[k] }
        }
    }

    /// The α on the grid (and its s) with the least output error of the rounded, scaled layer.
    static func search(_ w: UnsafePointer<Float>, tensor: ParameterTensor, stats: LayerStatistics, format: WeightFormat,
                       grid: Int) -> (scales: [Float], alpha: Double) {
        let rows = Rounding.outputRows(w, tensor: tensor)
        let K = tensor.shape[0], outputs = tensor.shape[1]
        let h = stats.hessian.map(Float.init)
        let largest = stats.meanAbsolute.max() ?? 0
        let floor = max(largest * 1e-5, Double.leastNormalMagnitude)
        var best: (error: Double, scales: [Float], alpha: Double) = (.infinity, [Float](repeating: 1, count: K), 0)
        var scaled = [Float](repeating: 0, count: K), row = [UInt8](repeating: 0, count: format.rowBytes(K)!)
        var delta = [Float](repeating: 0, count: outputs * K)
        for step in 0..<max(grid, 1) {
            let alpha = Double(step) / Double(max(grid, 1))
            var s = stats.meanAbsolute.map { pow(max($0, floor), alpha) }
            let norm = ((s.max() ?? 1) * (s.min() ?? 1)).squareRoot()
            s = s.map { min(max($0 / norm, 1e-4), 1e4) }
            let scales = s.map(Float.init)
            for r in 0..<outputs {
                for k in 0..<K { scaled[k] = rows[r * K + k] * scales[k] }
                format.quantizeRow(scaled, into: &row, count: K)
                format.dequantizeRow(row, into: &scaled, count: K)
                for k in 0..<K { delta[r * K + k] = rows[r * K + k] - scaled[k] / scales[k] }
            }
            let error = SymmetricMatrix.quadraticForm(delta, rows: outputs, n: K, h: h)
            if error < best.error { best = (error, scales, alpha) }
        }
        return (best.scales, best.alpha)
    }
}
