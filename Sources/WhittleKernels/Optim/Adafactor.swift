// Adafactor (Shazeer & Stern 2018) in Hugging Face's form with the common external-learning-rate
// settings: no first moment, β2(t) = 1 − t^−0.8 (so the first step takes the gradient's square
// as is), ε1 = 1e-30 added to g², update clipping at RMS d = 1, no relative step and no parameter
// scaling (the run's learning rate is the step size), decoupled weight decay p ← p·(1 − lr·wd).
// A tensor with ≥ 2 dimensions keeps only row and column running averages of g² (rows = all but the
// last dimension flattened, columns = the last; our tensors are all 1-D or 2-D) and reconstructs
// v̂_ij = r_i·c_j / mean(r); a vector keeps the full v. The loops are in C; `reference*` are the twins.

import CKernels
import Foundation

public enum Adafactor {
    public static let epsilon1: Float = 1e-30
    public static let clipThreshold: Float = 1.0
    public static let decayExponent = -0.8

    /// β2 for the `step`-th update (1-based): 1 − step^−0.8.
    public static func beta2(step: Int) -> Float { Float(1 - pow(Double(step), decayExponent)) }

    /// (rows, columns) when the second moment is factored, nil for vectors.
    public static func factoredShape(_ shape: [Int]) -> (rows: Int, columns: Int)? {
        guard shape.count >= 2, let columns = shape.last else { return nil }
        return (shape.dropLast().reduce(1, *), columns)
    }

    /// One update of a rows × columns matrix; `scratch` holds at least `columns` floats.
    public static func updateFactored(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                                      row: UnsafeMutablePointer<Float>, column: UnsafeMutablePointer<Float>,
                                      rows: Int, columns: Int, learningRate: Float, decay: Float, step: Int,
                                      scratch: UnsafeMutablePointer<Float>) {
        ck_adafactor_factored(parameters, gradients, row, column, rows, columns, beta2(step: step), epsilon1,
                              clipThreshold, learningRate, decay, scratch)
    }

    /// One update of a vector with its full second moment `v`.
    public static func updateVector(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                                    v: UnsafeMutablePointer<Float>, count: Int, learningRate: Float, decay: Float, step: Int) {
        ck_adafactor_vector(parameters, gradients, v, count, beta2(step: step), epsilon1, clipThreshold, learningRate, decay)
    }

    /// Plain Swift twin of `updateFactored` (Double sums, the same formula).
    public static func referenceFactored(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                                         row: UnsafeMutablePointer<Float>, column: UnsafeMutablePointer<Float>,
                                         rows: Int, columns: Int, learningRate: Float, decay: Float, step: Int) {
        let b2 = beta2(step: step), keep = 1 - b2
        var columnSums = [Float](repeating: 0, count: columns)
        var rowTotal = 0.0
        for i in 0..<rows {
            var sum = 0.0
            for j in 0..<columns {
                let s = g[i * columns + j] * g[i * columns + j] + epsilon1
                columnSums[j] += s
                sum += Double(s)
            }
            row[i] = b2 * row[i] + keep * Float(sum / Double(columns))
            rowTotal += Double(row[i])
        }
        for j in 0..<columns { column[j] = b2 * column[j] + keep * (columnSums[j] / Float(rows)) }
        let rowMean = Float(rowTotal / Double(rows))
        func u(_ i: Int, _ j: Int) -> Float {
            g[i * columns + j] * (1 / (row[i] / rowMean).squareRoot()) * (1 / column[j].squareRoot())
        }
        var squares = 0.0
        for i in 0..<rows { for j in 0..<columns { squares += Double(u(i, j) * u(i, j)) } }
        let rms = Float((squares / Double(rows * columns)).squareRoot())
        let scale = learningRate / max(1, rms / clipThreshold)
        for i in 0..<rows { for j in 0..<columns { p[i * columns + j] = p[i * columns + j] * decay - scale * u(i, j) } }
    }

    /// Plain Swift twin of `updateVector`.
    public static func referenceVector(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                                       v: UnsafeMutablePointer<Float>, count: Int, learningRate: Float, decay: Float, step: Int) {
        let b2 = beta2(step: step)
        var squares = 0.0
        for i in 0..<count {
            v[i] = b2 * v[i] + (1 - b2) * (g[i] * g[i] + epsilon1)
            let u = g[i] / v[i].squareRoot()
            squares += Double(u * u)
        }
        let scale = learningRate / max(1, Float((squares / Double(count)).squareRoot()) / clipThreshold)
        for i in 0..<count { p[i] = p[i] * decay - scale * (g[i] / v[i].squareRoot()) }
    }
}
