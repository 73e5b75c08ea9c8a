// The "smaller?" and "faster?" verdicts of `whittle compare` in words: a variant that is not faster
// than its base (a quantized model slower than f32, say) says so.

import Testing
@testable import whittle
import WhittleEngine

@Suite struct VerdictTests {
    func speed(prefill: Double, decodeMilliseconds: Double) -> InferenceSpeed {
        InferenceSpeed(threads: 1, promptTokens: 256, promptTokensRequested: 256, decodeTokens: 128, decodeTokensRequested: 128,
                       repetitions: 1, prefillTokensPerSecond: RepeatedMeasurement([prefill]),
                       decodeMillisecondsPerToken: RepeatedMeasurement([decodeMilliseconds]),
                       decodeTokensPerSecond: RepeatedMeasurement([1000 / decodeMilliseconds]), peakResidentBytes: 0, peakScope: "")
    }

    @Test func testFaster_inWords() {
        let base = speed(prefill: 1000, decodeMilliseconds: 1)
        #expect(Verdict.faster(base: base, variant: speed(prefill: 2000, decodeMilliseconds: 0.5))
                == "yes: decode 2.00× (faster), prefill 2.00× (faster)")
        #expect(Verdict.faster(base: base, variant: speed(prefill: 800, decodeMilliseconds: 1.02))
                == "no, not faster: decode 0.98× (same speed), prefill 0.80× (slower)")
        #expect(Verdict.faster(base: base, variant: speed(prefill: 900, decodeMilliseconds: 0.5)).hasPrefix("partly: decode 2.00× (faster)"))
    }

    @Test func testSmaller_inWords() {
        #expect(Verdict.smaller(base: 4000, variant: 1000) == "yes, 4.00× smaller")
        #expect(Verdict.smaller(base: 1000, variant: 1010) == "no, about the same size")
        #expect(Verdict.smaller(base: 1000, variant: 2000) == "no, 2.00× larger")
    }

    @Test func testTable_csvQuotesAndMarkdownEscapes() {
        let table = TextTable(headers: ["a", "b"], rows: [["x, y", "say \"hi\""], ["1|2", "3"]], rightAligned: [1])
        #expect(table.csv() == "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n1|2,3")
        #expect(table.markdown() == "| a | b |\n| --- | ---: |\n| x, y | say \"hi\" |\n| 1\\|2 | 3 |")
        #expect(table.aligned() == "a            b\n----  --------\nx, y  say \"hi\"\n1|2          3")
    }
}
