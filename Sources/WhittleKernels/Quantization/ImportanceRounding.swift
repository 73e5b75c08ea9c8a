// Importance-weighted rounding (what llama.cpp's `--imatrix` quantization does): per 32-weight block,
// the grid (scale, and minimum for the `_1` types) that minimises Σ wⱼ·(xⱼ − q(xⱼ))², with wⱼ the mean
// squared activation of input j from calibration. Like ggml's `make_qx_quants` (symmetric types) and
// `make_qkx3_quants` (types with a minimum), it tries reciprocal scales on a grid around the reference
// one, rounds to codes, and refits the scale (and minimum) to those codes by weighted least squares.
// Unlike ggml, every candidate is scored on the block it would really store (fp16 fields, the
// reference rounding of each value), and the reference grid itself is a candidate, so the chosen
// block's weighted error is never above round-to-nearest's.

/// Importance-weighted choice of each block's grid.
public enum ImportanceRounding {
    /// Reciprocal-scale steps tried on each side of the reference (ggml tries ±0.9 levels in 0.1 steps).
    static let steps = 9
    static let stepSize: Float = 0.1

    /// The grid for the 32 values at `x` with importances `w` (≥ 0) that minimises the weighted error
    /// of the stored block; the reference grid when nothing beats it (or every importance is zero).
    public static func bestGrid(_ format: WeightFormat, _ x: UnsafePointer<Float>, weights w: UnsafePointer<Float>) -> BlockGrid {
        var best = BlockGrid.reference(format, x)
        var bestError = best.weightedError(x, weights: w)
        var weightSum: Float = 0
        for i in 0..<BlockGrid.size { weightSum += w[i] }
        guard bestError > 0, weightSum > 0 else { return best }
        func consider(_ grid: BlockGrid) {
            guard grid.scale.isFinite, grid.minimum.isFinite, grid.storedScale.isFinite, grid.storedMinimum.isFinite else { return }
            let error = grid.weightedError(x, weights: w)
            if error < bestError {
                best = grid
                bestError = error
            }
        }
        switch format {
        case .q4_0, .q5_0, .q8_0: symmetricCandidates(format, x, w, consider)
        case .q4_1, .q5_1: affineCandidates(format, x, w, consider)
        case .f32, .f16, .bf16, .int8: preconditionFailure("\(format) has no block grid")
        }
        return best
    }

    /// Per-weight importances of one row, as llama.cpp weighs them: the input's mean squared activation
    /// times √(σ² + xⱼ²), σ² the row's mean squared weight, so that among equally important inputs the
    /// larger weights are kept more exactly.
    public static func elementWeights(_ importance: [Float], row x: UnsafePointer<Float>, into weights: inout [Float]) {
        let K = importance.count
        var sumOfSquares: Float = 0
        for j in 0..<K { sumOfSquares += x[j] * x[j] }
        let sigma2 = sumOfSquares / Float(max(K, 1))
        for j in 0..<K { weights[j] = importance[j] * (sigma2 + x[j] * x[j]).squareRoot() }
    }

    /// Quantizes a row of `count` values (whole blocks) with per-input importances `w` into `row`.
    public static func quantizeRow(_ format: WeightFormat, _ x: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                                   into row: UnsafeMutableRawPointer, count: Int) {
        precondition(count % BlockGrid.size == 0, "rows hold whole blocks of 32")
        let bytes = format.traits.bytesPerBlock
        for block in 0..<(count / BlockGrid.size) {
            let offset = block * BlockGrid.size
            bestGrid(format, x + offset, weights: w + offset).quantize(x + offset, into: row + block * bytes)
        }
    }

    /// Symmetric types: codes l ∈ [−n, n−1] (Q8_0: [−127, 127]) around the value of largest magnitude.
    private static func symmetricCandidates(_ format: WeightFormat, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                            _ consider: (BlockGrid) -> Void) {
        var amax: Float = 0, signedMax: Float = 0
        for i in 0..<BlockGrid.size where abs(x[i]) > amax { amax = abs(x[i]); signedMax = x[i] }
        guard amax > 0 else { return }
        let n: Float = format == .q4_0 ? 8 : format == .q5_0 ? 16 : 127
        let (low, high): (Float, Float) = format == .q8_0 ? (-127, 127) : (-n, n - 1)
        // The _0 types put the largest magnitude at −n (its sign picks the scale's); Q8_0 at ±127.
        let anchor: Float = format == .q8_0 ? amax : -signedMax
        for step in -steps...steps {
            let levels = n + Float(step) * stepSize
            let inverseScale = levels / anchor
            var sumXL: Float = 0, sumLL: Float = 0
            for i in 0..<BlockGrid.size {
                let l = min(max((x[i] * inverseScale).rounded(), low), high)
                sumXL += w[i] * x[i] * l
                sumLL += w[i] * l * l
            }
            consider(BlockGrid(format: format, scale: 1 / inverseScale))
            if sumLL > 0 { consider(BlockGrid(format: format, scale: sumXL / sumLL)) }
        }
    }

    /// Types with a minimum: codes l ∈ [0, n] over [min, max], refit as d·l + m by weighted least squares.
    private static func affineCandidates(_ format: WeightFormat, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                         _ consider: (BlockGrid) -> Void) {
        let (low, high) = GGMLBlock.range(x)
        guard high > low else { return }
        let n: Float = format == .q4_1 ? 15 : 31
        for step in -2 * steps...2 * steps {
            let inverseScale = (n + Float(step) * stepSize / 2) / (high - low)
            var sw: Double = 0, sl: Double = 0, sll: Double = 0, sx: Double = 0, slx: Double = 0
            for i in 0..<BlockGrid.size {
                let l = Double(min(max(((x[i] - low) * inverseScale).rounded(), 0), n))
                let wi = Double(w[i]), xi = Double(x[i])
                sw += wi; sl += wi * l; sll += wi * l * l; sx += wi * xi; slx += wi * l * xi
            }
            consider(BlockGrid(format: format, scale: 1 / inverseScale, minimum: low))
            let determinant = sw * sll - sl * sl
            guard determinant > 0 else { continue }
            let d = (sw * slx - sx * sl) / determinant
            let m = (sll * sx - sl * slx) / determinant
            if d > 0 { consider(BlockGrid(format: format, scale: Float(d), minimum: Float(m))) }
        }
    }
}
