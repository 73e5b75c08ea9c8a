// Strict UTF-8 checking (RFC 3629) that reports where the first bad byte is, so a corpus or a
// file header that is not UTF-8 can be rejected with a position the user can look at.

/// Finds the first byte that makes a buffer invalid UTF-8.
enum UTF8Validation {
    /// The offset of the first byte that does not start or continue a valid UTF-8 sequence
    /// (overlong forms, surrogates and values above U+10FFFF are invalid), or nil if all is valid.
    static func firstInvalidOffset<C: Collection>(in bytes: C) -> Int? where C.Element == UInt8, C.Index == Int {
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF   // allowed range of the second byte
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index - bytes.startIndex
            }
            for k in 1..<length {
                guard index + k < end else { return index - bytes.startIndex }
                let byte = bytes[index + k]
                let (lo, hi) = k == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
                guard byte >= lo, byte <= hi else { return index - bytes.startIndex }
            }
            index += length
        }
        return nil
    }

    /// Decodes `bytes` if they are valid UTF-8.
    static func string<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8, C.Index == Int {
        firstInvalidOffset(in: bytes) == nil ? String(decoding: bytes, as: UTF8.self) : nil
    }
}
