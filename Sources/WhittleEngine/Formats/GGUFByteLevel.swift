// GPT-2's byte-level alphabet (`bytes_to_unicode` in OpenAI's encoder.py): every byte maps to a
// printable code point (printable Latin-1 bytes to themselves, the other 68 to U+0100 onwards, so a
// space is `Ġ` and a newline `Ċ`). llama.cpp's `gpt2` tokenizer stores its tokens in this form, so a
// character vocabulary goes into a GGUF file as each character's UTF-8 bytes so mapped.

/// Converts between text and GPT-2's byte-level token spelling.
enum GPT2ByteLevel {
    /// The code point each byte is spelled with.
    static let scalarOfByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte each spelling code point stands for.
    static let byteOfScalar: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in scalarOfByte.enumerated() { map[scalar] = UInt8(byte) }
        return map
    }()

    /// The byte-level spelling of `scalar`'s UTF-8 bytes.
    static func spell(_ scalar: Unicode.Scalar) -> String {
        var text = String.UnicodeScalarView()
        for byte in String(scalar).utf8 { text.append(scalarOfByte[Int(byte)]) }
        return String(text)
    }

    /// The text a byte-level token spells, or nil when a code point is outside the alphabet or the
    /// bytes are not UTF-8.
    static func text(of token: String) -> String? {
        var bytes: [UInt8] = []
        for scalar in token.unicodeScalars {
            guard let byte = byteOfScalar[scalar] else { return nil }
            bytes.append(byte)
        }
        return UTF8Validation.string(bytes)
    }
}
