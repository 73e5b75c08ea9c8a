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
        #expect(deterministic(screenReport) == deterministic(cli))

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
