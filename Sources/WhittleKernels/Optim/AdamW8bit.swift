// 8-bit AdamW (Dettmers et al. 2022, "8-bit Optimizers via Block-wise Quantization"), as
// bitsandbytes' blockwise optimizers: each tensor's moments are cut into blocks of 256 values
// (bitsandbytes' current kernels; it used 2048 before), each block stores one Float scale and one
// byte per value. The byte indexes bitsandbytes' dynamic (tree) map: 256 codes with a dynamic
// exponent (1e-6 … 1) and a linear fraction, signed for m (scale = the block's absmax) and unsigned
// for v (scale = the block's max), which keeps small second moments from collapsing to zero the way
// a linear int8 map would. Each step dequantizes a block, runs the AdamW update in fp32, and
// requantizes to the nearest code. Tensors under 4096 values keep 32-bit m and v (bitsandbytes'
// `min_8bit_size`). The loop is in C; `referenceUpdate` is the Swift twin.

import CKernels

public enum AdamW8bit {
    public static let blockSize = 256   // the C kernel allows up to 2048
    /// Tensors with fewer values keep fp32 state.
    public static let minimumQuantizedCount = 4096

    public static func isQuantized(count: Int) -> Bool { count >= minimumQuantizedCount }

    /// bitsandbytes' `create_dynamic_map(signed, max_exponent_bits: 7, total_bits: 8)`, sorted.
    public static func dynamicMap(signed: Bool) -> [Float] {
        let exponentBits = 7, nonSignBits = 7
        var data: [Double] = []
        for i in 0..<exponentBits {
            let items = signed ? (1 << (i + nonSignBits - exponentBits)) + 1 : (1 << (i + nonSignBits - exponentBits + 1)) + 1
            // linspace(0.1, 1, items), then the means of neighbours
            let boundaries = (0..<items).map { 0.1 + 0.9 * Double($0) / Double(items - 1) }
            let scale = pow10(-(exponentBits - 1) + i)
            for k in 0..<(items - 1) {
                let mean = (boundaries[k] + boundaries[k + 1]) / 2
                data.append(scale * mean)
                if signed { data.append(-scale * mean) }
            }
        }
        data.append(0)
        data.append(1)
        precondition(data.count == 256)
        return data.map { Float($0) }.sorted()
    }

    private static func pow10(_ e: Int) -> Double {
        var r = 1.0
        for _ in 0..<abs(e) { r *= 10 }
        return e < 0 ? 1 / r : r
    }

    public static let signedMap = dynamicMap(signed: true)
    public static let unsignedMap = dynamicMap(signed: false)
    /// Code of 0 in each map (fresh state).
    public static let signedZero = UInt8(signedMap.firstIndex(of: 0)!)
    public static let unsignedZero = UInt8(unsignedMap.firstIndex(of: 0)!)

    /// The maps with their nearest-code lookup index (built once, never freed).
    nonisolated(unsafe) static let signedIndex = makeIndex(signedMap)
    nonisolated(unsafe) static let unsignedIndex = makeIndex(unsignedMap)

    static func makeIndex(_ map: [Float]) -> UnsafeMutablePointer<ck_code_index> {
        let index = UnsafeMutablePointer<ck_code_index>.allocate(capacity: 1)
        map.withUnsafeBufferPointer { ck_build_code_index($0.baseAddress!, index) }
        return index
    }

    /// Index of the code of the signed (m) or unsigned (v) map nearest to x (ties to the lower
    /// code), as the C kernel computes it.
    public static func nearest(signed: Bool, _ x: Float) -> UInt8 {
        ck_quantize_nearest(signed ? signedIndex : unsignedIndex, x)
    }

    /// Linear-scan twin of `nearest`: the first code with the smallest distance.
    public static func referenceNearest(_ map: [Float], _ x: Float) -> UInt8 {
        var best = 0
        for k in 1..<map.count where abs(x - map[k]) < abs(x - map[best]) { best = k }
        return UInt8(best)
    }

    /// One update of `count` ≥ 4096 parameters whose moments are quantized: `mCodes`/`vCodes` hold
    /// one byte per value, `mScales`/`vScales` one Float per block of `blockSize`.
    public static func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                              mCodes: UnsafeMutablePointer<UInt8>, mScales: UnsafeMutablePointer<Float>,
                              vCodes: UnsafeMutablePointer<UInt8>, vScales: UnsafeMutablePointer<Float>,
                              count: Int, settings s: AdamWSettings, step: Int, decays: Bool) {
        let (stepSize, inverseRoot) = s.biasCorrection(step: step)
        let decay = decays ? 1 - s.learningRate * s.weightDecay : 1
        ck_adamw8bit_update(parameters, gradients, mCodes, mScales, vCodes, vScales, count, blockSize,
                            signedIndex, unsignedIndex, s.beta1, s.beta2, s.epsilon, stepSize, inverseRoot, decay)
    }

    /// Plain Swift twin of `update`.
    public static func referenceUpdate(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                                       mCodes: UnsafeMutablePointer<UInt8>, mScales: UnsafeMutablePointer<Float>,
                                       vCodes: UnsafeMutablePointer<UInt8>, vScales: UnsafeMutablePointer<Float>,
                                       count: Int, settings s: AdamWSettings, step: Int, decays: Bool) {
        let (stepSize, inverseRoot) = s.biasCorrection(step: step)
        let decay = decays ? 1 - s.learningRate * s.weightDecay : 1
        var start = 0, block = 0
        while start < count {
            let end = min(start + blockSize, count)
            var m = [Float](), v = [Float]()
            var mMax: Float = 0, vMax: Float = 0
            for i in start..<end {
                let mi = s.beta1 * (signedMap[Int(mCodes[i])] * mScales[block]) + (1 - s.beta1) * g[i]
                let vi = s.beta2 * (unsignedMap[Int(vCodes[i])] * vScales[block]) + (1 - s.beta2) * g[i] * g[i]
                p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() * inverseRoot + s.epsilon)
                m.append(mi)
                v.append(vi)
                mMax = max(mMax, abs(mi))
                vMax = max(vMax, vi)
            }
            mScales[block] = mMax
            vScales[block] = vMax
            for (k, i) in (start..<end).enumerated() {
                mCodes[i] = referenceNearest(signedMap, mMax > 0 ? m[k] * (1 / mMax) : 0)
                vCodes[i] = referenceNearest(unsignedMap, vMax > 0 ? v[k] * (1 / vMax) : 0)
            }
            start = end
            block += 1
        }
    }
}
