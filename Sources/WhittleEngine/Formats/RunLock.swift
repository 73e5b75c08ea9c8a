// The lock that makes one process the only writer of a run directory: `.lock` in the directory,
// held with flock(2) for as long as the run is open and holding the writer's PID as text. The kernel
// drops a flock when its process dies (kill -9 included), so a lock file left by a killed process
// is stale by construction: the next writer takes it over and overwrites the PID. A second writer
// (another `whittle train --out DIR`, a `--resume` of a run that is still training, the workbench)
// is refused with the holder's PID. Each open of the file is its own lock, so two runs in one
// process exclude each other too.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a run directory, released by `release()`, on deinit, or when the process ends.
public final class RunLock: @unchecked Sendable {
    public static let fileName = ".lock"
    public let directory: String
    private var descriptor: Int32

    /// Takes the lock of `directory` (which must exist) or throws `.busy` naming the holder's PID.
    public init(directory: String) throws {
        let path = directory + "/" + Self.fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIO.error("create the lock file", path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readHolder(fd)
            close(fd)
            guard code == EWOULDBLOCK else {
                errno = code
                throw FileIO.error("lock", path)
            }
            throw WhittleError(.busy, "the run directory '\(directory)' is in use by another process (PID \(holder.map(String.init) ?? "unknown"))",
                               hint: "wait for it to finish or stop it (kill -INT \(holder.map(String.init) ?? "PID") saves a checkpoint), or choose another --out")
        }
        let text = Array("\(getpid())\n".utf8)
        let written = ftruncate(fd, 0) == 0 ? text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } : -1
        guard written == text.count else {
            let failure = FileIO.error("write the lock file", path)
            close(fd)
            throw failure
        }
        self.directory = directory
        self.descriptor = fd
    }

    /// The PID written by the process that holds (or held) the lock of `directory`, if readable.
    public static func holder(of directory: String) -> Int32? {
        let fd = open(directory + "/" + fileName, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readHolder(fd)
    }

    private static func readHolder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count].filter { (48...57).contains($0) }, as: UTF8.self))
    }

    /// Releases the lock (idempotent). The file stays; an unlocked file means "no writer".
    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)   // closing the last descriptor of the open file drops the flock
        descriptor = -1
    }

    deinit { release() }
}
