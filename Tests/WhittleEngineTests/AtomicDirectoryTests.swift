import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct AtomicDirectoryTests {
    static let files: [(name: String, bytes: [UInt8])] = [
        ("model.safetensors", [UInt8](repeating: 7, count: 1000)),
        ("state.json", Array(#"{"step": 120}"#.utf8)),
    ]

    @Test func testAtomicDirectory_publishWritesFilesAndManifestThenVerifies() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-atomic")
        let root = scratch.path
        let target = "\(root)/ckpt-000120"
        try AtomicDirectory.publish(files: Self.files, to: target)
        try AtomicDirectory.verify(target)
        #expect(AtomicDirectory.isComplete(target))
        let manifest = try String(contentsOfFile: "\(target)/MANIFEST.sha256", encoding: .utf8)
        #expect(manifest == "\(SHA256.hex(Self.files[0].bytes))  model.safetensors\n\(SHA256.hex(Self.files[1].bytes))  state.json\n")
        #expect(FileManager.default.contents(atPath: "\(target)/state.json") == Data(Self.files[1].bytes))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["ckpt-000120"])
    }

    @Test func testAtomicDirectory_verifyNamesCorruptedFile() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-atomic")
        let root = scratch.path
        let target = "\(root)/ckpt"
        try AtomicDirectory.publish(files: Self.files, to: target)
        var bytes = Self.files[0].bytes
        bytes[500] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: "\(target)/model.safetensors"))
        #expect(AtomicDirectory.isComplete(target))
        do {
            try AtomicDirectory.verify(target)
            Issue.record("corruption not detected")
        } catch let error as WhittleError {
            #expect(error.kind == .invalidFile)
            #expect(error.message.contains("model.safetensors"))
            #expect(error.message.contains("does not match"))
        }
    }

    @Test func testAtomicDirectory_verifyNamesMissingFileAndManifest() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-atomic")
        let root = scratch.path
        let target = "\(root)/ckpt"
        try AtomicDirectory.publish(files: Self.files, to: target)
        try FileManager.default.removeItem(atPath: "\(target)/state.json")
        #expect(!AtomicDirectory.isComplete(target))
        do {
            try AtomicDirectory.verify(target)
            Issue.record("missing file not detected")
        } catch let error as WhittleError {
            #expect(error.message.contains("state.json") && error.message.contains("missing"))
        }
        try FileManager.default.removeItem(atPath: "\(target)/MANIFEST.sha256")
        #expect(throws: WhittleError.self) { try AtomicDirectory.verify(target) }
        #expect(!AtomicDirectory.isComplete(target))
    }

    @Test func testAtomicDirectory_republishReplacesExistingDirectory() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-atomic")
        let root = scratch.path
        let target = "\(root)/model"
        try AtomicDirectory.publish(files: Self.files, to: target)
        try AtomicDirectory.publish(files: [("config.json", Array("{}".utf8))], to: target + "/")
        try AtomicDirectory.verify(target)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == ["MANIFEST.sha256", "config.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["model"])
    }

    @Test func testAtomicDirectory_failureLeavesNoTemporaryAndNamesPath() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-atomic")
        let root = scratch.path
        do {
            try AtomicDirectory.publish(files: Self.files, to: "\(root)/missing-parent/ckpt")
            Issue.record("publish into a missing parent succeeded")
        } catch let error as WhittleError {
            #expect(error.kind == .io)
            #expect(error.message.contains("\(root)/missing-parent/ckpt.tmp-"))
            #expect(error.message.contains("No such file or directory"))
        }
        #expect(throws: WhittleError.self) { try AtomicDirectory.publish(files: [("a/b", [])], to: "\(root)/x") }
        #expect(throws: WhittleError.self) { try AtomicDirectory.publish(files: [("MANIFEST.sha256", [])], to: "\(root)/x") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)
    }

    @Test func testAtomicDirectory_removesAbandonedTemporariesAndRestoresMovedAside() throws {
        let scratch = TemporaryDirectory(prefix: "whittle-atomic")
        let root = scratch.path
        try AtomicDirectory.publish(files: Self.files, to: "\(root)/ckpt-1")
        // A crash mid-publish (dead pid 999999999 is never a live process id).
        try FileManager.default.createDirectory(atPath: "\(root)/ckpt-2.tmp-999999999", withIntermediateDirectories: false)
        // A crash between moving the old directory aside and renaming the new one in.
        try FileManager.default.moveItem(atPath: "\(root)/ckpt-1", toPath: "\(root)/ckpt-1.old-999999999")
        let handled = try AtomicDirectory.removeAbandonedTemporaries(in: root)
        #expect(handled.sorted() == ["ckpt-1.old-999999999", "ckpt-2.tmp-999999999"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["ckpt-1"])
        try AtomicDirectory.verify("\(root)/ckpt-1")
    }
}
