// GPTQ (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
// Transformers") producing GGUF blocks. For a layer y = x·Wᵀ with calibration Hessian H = Σ xᵀx, the
// columns (inputs) are quantized one at a time for every row at once, and each column's rounding
// error, divided by U_ii, is pushed onto the columns not yet quantized through row i of U, the upper
// Cholesky factor of H⁻¹ (H dampened by λ = percdamp · mean diag H first). Updates inside a batch of
// 128 columns are applied at once; the rest of the matrix gets the batch's errors in one product
// (lazy batch updates). Inputs that never fire (H_ii = 0) are set to 1 on the diagonal and their
// weights to 0, as the reference implementation does.
//
// Grids: each 32-column block of a row is one GGUF block. In column order, a block's grid is the
// type's reference rule applied to the block's current (already updated) weights when its first
// column comes up. With act-order (columns by decreasing diag H) the order jumps between blocks,
// so every block's grid is fixed first, by the reference rule on the original weights, and the
// columns' codes are chosen on it in act order; the block layout stays GGUF's contiguous 32 columns.

/// GPTQ over GGUF block types.
public enum GPTQ {
    public struct Options: Equatable, Sendable {
        /// λ = percentDamping · mean(diag H) is added to H's diagonal (0.01 by default).
        public var percentDamping: Double
        /// Columns per lazy batch (a multiple of 32; 128 by default).
        public var batchSize: Int
        /// Columns by decreasing diag H, grids fixed from the original weights.
        public var actOrder: Bool

        public init(percentDamping: Double = 0.01, batchSize: Int = 128, actOrder: Bool = false) {
            self.percentDamping = percentDamping
            self.batchSize = batchSize
            self.actOrder = actOrder
        }
    }

    /// Why GPTQ could not run.
    public enum Failure: Error, Equatable, Sendable {
        /// H + λI stayed non-positive-definite after raising λ tenfold three times.
        case notPositiveDefinite(damping: Double)
        /// The options are out of range.
        case invalidOptions(String)
    }

    /// Quantizes `rows` output rows of `columns` weights each (`weights`, output-major) with the
    /// Hessian `hessian` (columns × columns, Σ xᵀx) into `out` (rows × `format.rowBytes(columns)` bytes).
    /// Returns the damping used.
    @discardableResult
    public static func quantize(weights: UnsafePointer<Float>, rows: Int, columns K: Int, hessian: UnsafePointer<Double>,
                                format: WeightFormat, options: Options = Options(),
                                into out: UnsafeMutableRawPointer) throws(Failure) -> Double {
        precondition(BlockGrid.supports(format) && K % BlockGrid.size == 0, "GPTQ writes whole GGUF blocks")
        guard options.batchSize > 0, options.batchSize % BlockGrid.size == 0 else {
            throw .invalidOptions("the GPTQ batch size must be a positive multiple of 32 (got \(options.batchSize))")
        }
        guard options.percentDamping >= 0, options.percentDamping.isFinite else {
            throw .invalidOptions("the GPTQ damping must be ≥ 0 (got \(options.percentDamping))")
        }
        // Dead inputs, the column order, and the dampened, permuted Hessian's inverse Cholesky factor.
        var dead = [Bool](repeating: false, count: K)
        var diagonal = [Double](repeating: 0, count: K)
        for k in 0..<K {
            diagonal[k] = hessian[k * K + k]
            if diagonal[k] == 0 { dead[k] = true; diagonal[k] = 1 }
        }
        let order = options.actOrder ? (0..<K).sorted { diagonal[$0] > diagonal[$1] || (diagonal[$0] == diagonal[$1] && $0 < $1) }
                                     : Array(0..<K)
        let u = UnsafeMutablePointer<Float>.allocate(capacity: K * K)
        defer { u.deallocate() }
        let damping = try inverseFactor(hessian, diagonal: diagonal, order: order, K: K, percent: options.percentDamping, into: u)

        // Working copy in act order, column-major over rows: w[i * rows + r] = W[r, order[i]].
        let w = UnsafeMutablePointer<Float>.allocate(capacity: K * rows)
        defer { w.deallocate() }
        for i in 0..<K {
            let k = order[i]
            for r in 0..<rows { w[i * rows + r] = dead[k] ? 0 : weights[r * K + k] }
        }
        let blocksPerRow = K / BlockGrid.size
        var grids = [BlockGrid](repeating: BlockGrid(format: format, scale: 0), count: rows * blocksPerRow)
        if options.actOrder {
            for r in 0..<rows {
                for b in 0..<blocksPerRow { grids[r * blocksPerRow + b] = BlockGrid.reference(format, weights + r * K + b * BlockGrid.size) }
            }
        }
        var codes = [Int32](repeating: 0, count: rows * K)
        let errors = UnsafeMutablePointer<Float>.allocate(capacity: options.batchSize * rows)
        defer { errors.deallocate() }
        var blockValues = [Float](repeating: 0, count: BlockGrid.size)

        sweepColumns(w: w, rows: rows, K: K, u: u, batch: options.batchSize, errors: errors) { i, column, pivot, error in
            let k = order[i]
            if !options.actOrder && k % BlockGrid.size == 0 {
                // Column order: i == k, so the block's current weights are columns k..<k+32 of w.
                for r in 0..<rows {
                    for j in 0..<BlockGrid.size { blockValues[j] = w[(k + j) * rows + r] }
                    grids[r * blocksPerRow + k / BlockGrid.size] = blockValues.withUnsafeBufferPointer {
                        BlockGrid.reference(format, $0.baseAddress!)
                    }
                }
            }
            for r in 0..<rows {
                let grid = grids[r * blocksPerRow + k / BlockGrid.size]
                let q = grid.code(column[r])
                codes[r * K + k] = q
                error[r] = (column[r] - grid.value(q)) / pivot
            }
        }

        let rowBytes = format.rowBytes(K)!, blockBytes = format.traits.bytesPerBlock
        codes.withUnsafeBufferPointer { all in
            for r in 0..<rows {
                for b in 0..<blocksPerRow {
                    grids[r * blocksPerRow + b].encode(all.baseAddress! + r * K + b * BlockGrid.size,
                                                      into: out + r * rowBytes + b * blockBytes)
                }
            }
        }
        return damping
    }

    /// U (fp32) of the permuted, dampened Hessian; raises λ tenfold (up to three times) when H + λI
    /// is not positive definite. Returns λ. SparseGPT (`Pruning/SparseGPT.swift`) shares it.
    static func inverseFactor(_ hessian: UnsafePointer<Double>, diagonal: [Double], order: [Int], K: Int,
                                      percent: Double, into u: UnsafeMutablePointer<Float>) throws(Failure) -> Double {
        let h = UnsafeMutablePointer<Double>.allocate(capacity: K * K)
        let factor = UnsafeMutablePointer<Double>.allocate(capacity: K * K)
        defer { h.deallocate(); factor.deallocate() }
        let mean = diagonal.reduce(0, +) / Double(K)
        var damping = percent * mean
        for attempt in 0..<4 {
            for i in 0..<K {
                for j in 0..<K { h[i * K + j] = hessian[order[i] * K + order[j]] }
                h[i * K + i] = diagonal[order[i]] + damping
            }
            if SymmetricMatrix.inverseCholeskyUpper(h, n: K, into: factor) {
                for i in 0..<(K * K) { u[i] = Float(factor[i]) }
                return damping
            }
            if attempt < 3 { damping = max(damping * 10, mean * 1e-4) }
        }
        throw .notPositiveDefinite(damping: damping)
    }
}
