// A real `whittle compare --json` report (the tiny sample model, its q8_0 and q4_0 variants, with
// speed) for the Compare screen's tests, decoded from Fixtures/compare/report.json.

import Foundation
import WhittleEngine
import WhittleTestSupport

enum CompareFixture {
    static let path = Repository.path("Tests/WhittleUITests/Fixtures/compare/report.json")

    /// The committed report (base, q8_0, q4_0).
    static let report: ComparisonReport = {
        do {
            return try JSONDecoder().decode(ComparisonReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            fatalError("cannot read \(path): \(error)")
        }
    }()
}
