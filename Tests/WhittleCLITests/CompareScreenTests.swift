// Every number the workbench's Compare screen shows equals what `whittle compare --json` prints for
// the same models and text: the tiny sample model and the reference Q8_0 GGUF of itself, measured
// once by the command and once by the engine job behind the screen (the VariantLibrary), then the
// screen rendered from the job's report and searched for the command's figures.

import Foundation
import Testing
import WhittleEngine
import WhittleTestSupport

@testable import WhittleUI

@Suite struct CompareScreenTests {
    static let base = Repository.path("sample-models/shakespeare-char-tiny")
    static let q8 = Repository.path("Tests/WhittleEngineTests/Fixtures/gguf-reference/tiny-q8_0.gguf")

    /// The report without what differs between two measurements of the same models (time, the process's memory).
    func deterministic(_ report: ComparisonReport) -> ComparisonReport {
        var report = report
        report.processPeakResidentBytes = 0
        for i in report.models.indices {
            report.models[i].evaluation.seconds = 0
            report.models[i].comparison?.evaluation.seconds = 0
        }
        return report
    }

    static func jsonObject(_ report: ComparisonReport) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try report.jsonText().utf8))
    }

    /// Paths where two decoded JSON values differ: numbers by more than 1e-6 relative and 1e-7 absolute, anything else at all.
    static func differences(_ a: Any, _ b: Any, path: String) -> [String] {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            guard Set(x.keys) == Set(y.keys) else { return ["\(path): keys \(x.keys.sorted()) vs \(y.keys.sorted())"] }
            return x.keys.sorted().flatMap { differences(x[$0]!, y[$0]!, path: path + "." + $0) }
        case (let x as [Any], let y as [Any]):
            guard x.count == y.count else { return ["\(path): \(x.count) vs \(y.count) elements"] }
            return zip(x, y).enumerated().flatMap { differences($1.0, $1.1, path: "\(path)[\($0)]") }
        case (let x as NSNumber, let y as NSNumber) where !(x is Bool) || !(y is Bool):
            let (u, v) = (x.doubleValue, y.doubleValue)
            return abs(u - v) <= max(1e-6 * max(abs(u), abs(v)), 1e-7) ? [] : ["\(path): \(u) vs \(v)"]
        default:
            return "\(a)" == "\(b)" ? [] : ["\(path): \(a) vs \(b)"]
        }
    }

    @Test func testCompareScreen_showsExactlyTheNumbersOfWhittleCompareJSON() throws {
        let workspace = try Workspace()
        let result = try workspace.launch(["compare", Self.base, Self.q8, "--data", workspace.path("corpus.txt"), "--json", "--no-speed"],
                                          timeout: 120).finish()
        #expect(result.status == 0, "\(result.transcript)")
        let cli = try JSONDecoder().decode(ComparisonReport.self, from: result.stdout)

        let library = VariantLibrary()
        defer { library.stop() }
        let request = ComparisonRequest(models: [Self.base, Self.q8], data: workspace.path("corpus.txt"), speed: nil)
        library.send(.compare(request))
        var answer: Result<ComparisonReport, WhittleError>?
        try waitUntil("the comparison", timeout: Deadline.generous) {
            for case .compared(let asked, let result) in library.takeEvents() where asked == request { answer = result }
            return answer != nil
        }
        let screenReport = try #require(try answer?.get())
        // Equal to within 1e-6 relative or 1e-7 absolute, not bit for bit: OpenBLAS sums the base's fp32
        // products in another order when the process's BLAS thread count differs (1 vs 2 threads moves the
        // tiny model's loss by ~2e-9 and the KLD quantiles of this near-identical variant by up to ~2e-8),
        // and concurrently running tests change that process-wide count. Every figure the screen shows
        // has fewer digits, and those are checked exactly below.
        let mismatches = Self.differences(try Self.jsonObject(deterministic(screenReport)), try Self.jsonObject(deterministic(cli)), path: "report")
        #expect(mismatches.isEmpty, "\(mismatches)")

        var state = AppState(width: 200, height: 60)
        state.screen = .compare
        state.compare.models = request.models
        state.compare.data = TextField(workspace.path("corpus.txt"))
        _ = update(&state, .comparisonFinished(screenReport))
        #expect(state.compare.report == screenReport)
        _ = update(&state, .key(.down))   // the variant's details
        let text = render(state, TrainingMetricsSnapshot(), .builtinDefault).text
        for row in cli.models {
            #expect(text.contains(String(format: "%.4f", row.evaluation.loss)), "loss of \(row.model)")
            #expect(text.contains(formatBytes(row.fileBytes)), "file of \(row.model)")
        }
        let variant = try #require(cli.models.last?.comparison)
        for figure in [String(format: "%+.4f", variant.lossChange), String(format: "%.5f", variant.divergence.mean),
                       String(format: "%.1f%%", variant.agreement * 100), String(format: "KLD p99 %.5f", variant.divergence.p99),
                       String(format: "%.2f bits/weight", cli.models[1].bitsPerWeight), "smaller? " + (cli.models[1].smaller ?? "?")] {
            #expect(text.contains(figure), "\(figure) not on the Compare screen")
        }
    }
}
