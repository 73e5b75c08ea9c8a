// `whittle distill`: a distilled student and its baseline side by side (JSON), the student published
// as a variant with its lineage, and the bad input the issue lists — a missing teacher, a teacher whose
// tokenizer differs from the data's, alpha outside [0, 1], temperature ≤ 0 — each refused with its
// exit status and nothing written.

import Foundation
import Testing

@Suite struct DistillCommandTests {
    /// A workspace with the tiny model trained into `run/` (the teacher) and a one-block student config.
    func workspace() throws -> Workspace {
        let workspace = try Workspace()
        _ = try workspace.trainTinyModel()
        try workspace.write("student.toml", text: tinyConfig(["n_layer": "1", "distill_alpha": "0.5"]))
        return workspace
    }

    func refuse(_ workspace: Workspace, _ arguments: [String], status: Int32, mentioning: [String],
                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = workspace.tree()
        let result = try workspace.launch(["distill"] + arguments).finish()
        expectRefused(result, status: status, mentioning: mentioning, workspace: workspace, unchanged: before,
                      sourceLocation: sourceLocation)
    }

    @Test func distilledAndBaselineSideBySideWithAVariantStudent() throws {
        let workspace = try workspace()
        let result = try workspace.run("distill", "--teacher", "run", "--config", "student.toml", "--out", "student-run",
                                       "--baseline", "--json", "--quiet")
        try #require(result.status == 0, "distill failed:\n\(result.transcript)")
        let report = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let students = try #require(report["students"] as? [[String: Any]])
        #expect(students.map { $0["label"] as? String } == ["distilled", "baseline"])
        #expect(students[1]["run"] as? String == "student-run/baseline-without-teacher")
        #expect(report["gain"] is Double)
        let against = try #require(students[0]["against_teacher"] as? [String: Any])
        #expect(against["top1_agreement"] is Double && against["kld"] is [String: Any])
        let summary = try #require(students[0]["summary"] as? [String: Any])
        #expect(summary["distillation"] is [String: Any])
        #expect((students[1]["summary"] as? [String: Any])?["distillation"] == nil)
        let lineage = String(decoding: try workspace.read("student-run/student/variant.json"), as: UTF8.self)
        #expect(lineage.contains("\"pass\": \"distill\"") && lineage.contains("\"sha256\""))
        #expect(try workspace.logLines("student-run").allSatisfy { $0.contains("\"kl\":") })
        #expect(try workspace.logLines("student-run/baseline-without-teacher").allSatisfy { !$0.contains("\"kl\":") })
        // The student variant is a model `compare` and `eval` load.
        let compare = try workspace.run("compare", "run", "student-run/student", "--no-speed", "--json")
        #expect(compare.status == 0, "\(compare.transcript)")
    }

    @Test func missingTeacher() throws {
        let workspace = try workspace()
        try refuse(workspace, ["--teacher", "no-such-model", "--config", "student.toml", "--out", "s"], status: 65,
                   mentioning: ["no teacher at 'no-such-model'"])
    }

    @Test func teacherTokenizerDiffersFromTheData() throws {
        let workspace = try workspace()
        try workspace.write("other.txt", text: String(repeating: "abba cab dad. ", count: 300))
        try refuse(workspace, ["--teacher", "run", "--config", "student.toml", "--set", "dataset=other.txt", "--out", "s"],
                   status: 65, mentioning: ["teacher", "vocabulary"])
    }

    @Test func alphaOutsideTheUnitInterval() throws {
        let workspace = try workspace()
        try refuse(workspace, ["--teacher", "run", "--config", "student.toml", "--set", "distill_alpha=1.5", "--out", "s"],
                   status: 64, mentioning: ["distill_alpha", "[0, 1]", "1.5"])
    }

    @Test func temperatureNotPositive() throws {
        let workspace = try workspace()
        try refuse(workspace, ["--teacher", "run", "--config", "student.toml", "--set", "distill_temperature=0", "--out", "s", "--baseline"],
                   status: 64, mentioning: ["distill_temperature", "> 0"])
    }
}
