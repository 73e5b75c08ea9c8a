// Measures this machine's fp32 FMA peak (and, where the CPU has AVX512-BF16, its bf16 dot-product
// peak): independent chains on every thread, long enough to hide latency. Benchmarks report model
// FLOPs utilisation against the peak of the precision the run multiplies in.

import CKernels
import Foundation

public enum PeakThroughput {
    /// Sustained fp32 GFLOP/s of `threads` threads each running 12 independent SIMD16 FMA chains
    /// for about `seconds`. Best of three rounds.
    public static func measureGFLOPS(threads: Int, seconds: Double = 0.2) -> Double {
        // 12 chains × 16 lanes × 2 FLOPs per FMA.
        measure(threads: threads, seconds: seconds, flopsPerIteration: 12 * 16 * 2) { _ = fmaChains(iterations: $0) }
    }

    /// Sustained bf16 GFLOP/s of `threads` threads each running 12 independent VDPBF16PS chains
    /// (each instruction: 16 lanes × 2 products, added, = 64 FLOPs). Best of three rounds; nil
    /// without AVX512-BF16.
    public static func measureBF16GFLOPS(threads: Int, seconds: Double = 0.2) -> Double? {
        guard HalfMatmul.runsNatively(.bf16) else { return nil }
        return measure(threads: threads, seconds: seconds, flopsPerIteration: 12 * 16 * 4) { _ = ck_bf16_dot_chains($0) }
    }

    /// Best of three rounds of `seconds / 3`, each running `chains(iterations)` on every thread.
    static func measure(threads: Int, seconds: Double, flopsPerIteration: Double,
                        _ chains: @escaping @Sendable (Int) -> Void) -> Double {
        let iterations = 2_000_000
        var best = 0.0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            var rounds = 0
            repeat {
                DispatchQueue.concurrentPerform(iterations: threads) { _ in chains(iterations) }
                rounds += 1
            } while Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < seconds / 3
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let flops = Double(rounds * threads * iterations) * flopsPerIteration
            best = max(best, flops / elapsed / 1e9)
        }
        return best
    }

    @inline(never)
    static func fmaChains(iterations: Int) -> Float {
        let a = SIMD16<Float>(repeating: 0.999_999), b = SIMD16<Float>(repeating: 1e-7)
        var c0 = SIMD16<Float>(repeating: 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
        var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
        // c ← b + c·a converges to b / (1 − a) and stays a normal number (no denormal slowdowns).
        for _ in 0..<iterations {
            c0 = b.addingProduct(c0, a); c1 = b.addingProduct(c1, a); c2 = b.addingProduct(c2, a)
            c3 = b.addingProduct(c3, a); c4 = b.addingProduct(c4, a); c5 = b.addingProduct(c5, a)
            c6 = b.addingProduct(c6, a); c7 = b.addingProduct(c7, a); c8 = b.addingProduct(c8, a)
            c9 = b.addingProduct(c9, a); c10 = b.addingProduct(c10, a); c11 = b.addingProduct(c11, a)
        }
        let total = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11
        return total.sum()
    }
}
