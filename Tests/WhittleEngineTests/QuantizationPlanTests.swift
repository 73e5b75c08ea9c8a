// Quantization plans: `PATTERN=TYPE` rules over GGUF and Whittle names with `*` globs, the 8-bit
// embedding default and its override, last-rule-wins, plan files read strictly, and refusals —
// patterns that match nothing (named), unknown and unstorable types (listed), and rows that are not
// whole blocks (naming the tensor and the nearest type that fits).

import Testing
@testable import WhittleEngine

@Suite struct QuantizationPlanTests {
    /// Two blocks of width 64 (whole 32-weight blocks everywhere).
    static let layout = ParameterLayout(GPTDimensions(L: 2, NH: 2, C: 64, maxT: 16, V: 12))

    func formats(_ plan: QuantizationPlan, layout: ParameterLayout = layout) throws -> [String: WeightFormat] {
        Dictionary(uniqueKeysWithValues: zip(layout.tensors.map(\.name), try plan.resolve(layout: layout)))
    }

    @Test func testResolve_defaultsEmbeddingAndVectors() throws {
        let chosen = try formats(QuantizationPlan(defaultFormat: .q4_0))
        #expect(chosen["wte.weight"] == .q8_0 && chosen["wpe.weight"] == .f32)
        #expect(chosen["h.0.attn.c_attn.weight"] == .q4_0 && chosen["h.1.mlp.c_proj.weight"] == .q4_0)
        #expect(chosen["h.0.ln_1.weight"] == .f32 && chosen["h.0.attn.c_attn.bias"] == .f32 && chosen["ln_f.bias"] == .f32)
        let embedding = try formats(QuantizationPlan(defaultFormat: .q4_0, embeddingFormat: .f16))
        #expect(embedding["wte.weight"] == .f16)
    }

    @Test func testResolve_patternsMatchBothNamingsWithGlobsLastRuleWins() throws {
        let rules: [QuantizationPlan.Rule] = [
            .init(pattern: "ffn_down", format: .q8_0),               // a GGUF part: every block's ffn_down
            .init(pattern: "h.1.mlp.c_proj.weight", format: .q5_0),  // a whole Whittle name, after: wins for block 1
            .init(pattern: "blk.*.attn_q*", format: .q5_1),          // a glob over GGUF names
            .init(pattern: "token_embd", format: .q4_0),             // names the embedding over its default
            .init(pattern: "mlp.c_fc", format: .f16),                // a run of Whittle parts
        ]
        let chosen = try formats(QuantizationPlan(defaultFormat: .q4_1, rules: rules))
        #expect(chosen["h.0.mlp.c_proj.weight"] == .q8_0 && chosen["h.1.mlp.c_proj.weight"] == .q5_0)
        #expect(chosen["h.0.attn.c_attn.weight"] == .q5_1 && chosen["h.1.attn.c_attn.weight"] == .q5_1)
        #expect(chosen["h.0.attn.c_proj.weight"] == .q4_1)
        #expect(chosen["h.0.mlp.c_fc.weight"] == .f16 && chosen["wte.weight"] == .q4_0)
    }

    @Test func testGlob_wholeNamesAndDotParts() {
        #expect(QuantizationPlan.matches("blk.1.*", name: "blk.1.ffn_up.weight"))
        #expect(QuantizationPlan.matches("*", name: "wte.weight"))
        #expect(QuantizationPlan.matches("1", name: "h.1.mlp.c_fc.weight"))
        #expect(!QuantizationPlan.matches("ffn", name: "blk.1.ffn_up.weight"))     // parts are whole
        #expect(QuantizationPlan.matches("ffn*", name: "blk.1.ffn_up.weight"))
        #expect(!QuantizationPlan.matches("blk.1", name: "blk.10.ffn_up.weight"))
        #expect(QuantizationPlan.matches("*_up.weight", name: "blk.10.ffn_up.weight"))
        #expect(!QuantizationPlan.matches("blk.2.*", name: "blk.1.ffn_up.weight"))
    }

    @Test func testResolve_patternsMatchingNothingAreNamed() {
        let plan = QuantizationPlan(defaultFormat: .q4_0, rules: [.init(pattern: "ffn_down", format: .q8_0),
                                                                  .init(pattern: "blk.7.*", format: .q8_0),
                                                                  .init(pattern: "mlp.c_proj.weght", format: .q8_0)])
        let error = #expect(throws: WhittleError.self) { try plan.resolve(layout: Self.layout) }
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.contains("'blk.7.*', 'mlp.c_proj.weght'") == true && error?.message.contains("ffn_down") == false)
        #expect(error?.hint.contains("token_embd.weight / wte.weight") == true)
        let vectors = QuantizationPlan(defaultFormat: .q4_0, rules: [.init(pattern: "ln_1", format: .q8_0)])
        let vectorError = #expect(throws: WhittleError.self) { try vectors.resolve(layout: Self.layout) }
        #expect(vectorError?.message.contains("stay f32") == true)
    }

    @Test func testResolve_rowsNotWholeBlocksNameTensorAndNearestFit() throws {
        let narrow = ParameterLayout(GPTDimensions(L: 1, NH: 2, C: 16, maxT: 8, V: 12))
        let error = #expect(throws: WhittleError.self) { try QuantizationPlan(defaultFormat: .q4_0, embeddingFormat: .f16).resolve(layout: narrow) }
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.contains("h.0.attn.c_attn.weight (blk.0.attn_qkv.weight)") == true)
        #expect(error?.message.contains("rows of 16") == true && error?.message.contains("block of 32") == true)
        #expect(error?.hint.contains("blk.0.attn_qkv.weight=f16") == true)
        // The embedding's default q8_0 needs whole blocks too.
        let embedding = #expect(throws: WhittleError.self) { try QuantizationPlan(defaultFormat: .f16).resolve(layout: narrow) }
        #expect(embedding?.message.contains("wte.weight (token_embd.weight)") == true)
        #expect(QuantizationPlan.nearestFitting(.q8_0, rowLength: 16) == .f16)
        #expect(QuantizationPlan.nearestFitting(.q4_0, rowLength: 64) == .q4_0)
        #expect(try QuantizationPlan(defaultFormat: .f16, embeddingFormat: .bf16).resolve(layout: narrow).count == narrow.tensors.count)
    }

    @Test func testRuleAndTypeParsing_refusals() throws {
        #expect(try QuantizationPlan.rule("ffn_down=Q8_0") == .init(pattern: "ffn_down", format: .q8_0))
        #expect(try QuantizationPlan.rule("*=q5_0") == .init(pattern: "*", format: .q5_0))
        let unknown = #expect(throws: WhittleError.self) { try QuantizationPlan.rule("ffn_down=q3_k") }
        #expect(unknown?.message.contains("unknown type 'q3_k'") == true && unknown?.hint.contains("q4_0") == true)
        let int8 = #expect(throws: WhittleError.self) { try QuantizationPlan.format(named: "int8", for: "--type") }
        #expect(int8?.message.contains("GGUF has no such type") == true)
        for bad in ["ffn_down", "=q8_0", "a b=q8_0", "x=y=q8_0", "blk.\u{E9}=q4_0"] {
            let error = #expect(throws: WhittleError.self, "\(bad)") { try QuantizationPlan.rule(bad) }
            #expect(error?.kind == .invalidConfig)
        }
        #expect(try RoundingMethod.named("GPTQ") == .gptq)
        let other = #expect(throws: WhittleError.self) { try RoundingMethod.named("magic") }
        #expect(other?.hint.contains("rtn") == true && other?.hint.contains("awq") == true)
    }

    @Test func testPlanFile_parsesAndRefusesStrictly() throws {
        let text = #"{"comment": "x", "type": "q4_0", "embedding_type": "f16", "tensor_types": {"ffn_down": "q8_0", "blk.0.*": "q5_0"}}"#
        let file = try QuantizationPlanFile.parse(Array(text.utf8), source: "plan.json")
        #expect(file == QuantizationPlanFile(defaultFormat: .q4_0, embeddingFormat: .f16,
                                             rules: [.init(pattern: "ffn_down", format: .q8_0), .init(pattern: "blk.0.*", format: .q5_0)]))
        #expect(try QuantizationPlanFile.parse(Array(file.json().utf8), source: "again") == file)
        #expect(try QuantizationPlanFile.parse(Array("{}".utf8), source: "empty") == QuantizationPlanFile())
        let cases: [(String, String)] = [
            (#"{"typo": "q4_0"}"#, "unknown key 'typo'"),
            (#"{"type": 4}"#, "'type' must be a type name string"),
            (#"{"type": "q9"}"#, "unknown type 'q9'"),
            (#"{"tensor_types": ["ffn_down=q8_0"]}"#, "'tensor_types' must be an object"),
            (#"{"tensor_types": {"ffn_down": "q8_0", "ffn_down": "q4_0"}}"#, "not valid JSON"),
            (#"{"tensor_types": {"a b": "q8_0"}}"#, "'a b'"),
            (#"["q4_0"]"#, "not a JSON object"),
            ("{", "not valid JSON"),
        ]
        for (json, fragment) in cases {
            let error = #expect(throws: WhittleError.self, "\(json)") { try QuantizationPlanFile.parse(Array(json.utf8), source: "plan.json") }
            #expect(error?.kind == .invalidConfig, "\(json)")
            #expect(error?.message.contains("plan.json") == true && error?.message.contains(fragment) == true, "\(json): \(error?.message ?? "")")
        }
    }
}
