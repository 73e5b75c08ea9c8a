// Whole-file reads and writes through POSIX calls, so every failure carries the path and the
// operating system's own words (strerror). Used by the model, checkpoint and corpus readers.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Small POSIX helpers that turn `errno` into a `WhittleError.io` naming the path.
enum FileIO {
    /// A write failure to inject (tests of disk-full and other I/O errors): every write to a path
    /// ending in `pathSuffix` fails with `errno` once `remainingWrites` successful writes are used up.
    struct WriteFault: Sendable {
        var pathSuffix: String
        var code: Int32
        var remainingWrites: Int
    }

    /// The seam: set by tests (`injectWriteFault`), consulted by every write below.
    static let fault = Mutex<WriteFault?>(nil)

    /// Makes writes to paths ending in `pathSuffix` fail with `code` after `after` successful ones; nil clears.
    static func injectWriteFault(pathSuffix: String?, code: Int32 = ENOSPC, after: Int = 0) {
        fault.withLock { $0 = pathSuffix.map { WriteFault(pathSuffix: $0, code: code, remainingWrites: after) } }
    }

    /// The errno to fail a write to `path` with, if a fault is injected for it.
    private static func injectedFailure(_ path: String) -> Int32? {
        fault.withLock { fault -> Int32? in
            guard var current = fault, path.hasSuffix(current.pathSuffix) else { return nil }
            if current.remainingWrites > 0 {
                current.remainingWrites -= 1
                fault = current
                return nil
            }
            return current.code
        }
    }

    /// Writes all of `bytes` to the open descriptor `fd` (retrying on EINTR and short writes);
    /// throws `.io` naming `path`.
    static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws {
        if let code = injectedFailure(path) {
            errno = code
            throw error("write", path)
        }
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + done, buffer.count - done)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw error("write", path)
            }
            done += count
        }
    }

    /// The text of the current `errno`, e.g. "No such file or directory".
    static func lastErrorText() -> String { String(cString: strerror(errno)) }

    /// An `.io` error for a failed system call on `path`.
    static func error(_ action: String, _ path: String, hint: String = "") -> WhittleError {
        let code = errno
        var fix = hint
        if fix.isEmpty {
            switch code {
            case ENOENT: fix = "check the path; the file or a parent directory does not exist"
            case EACCES, EPERM: fix = "check the file's permissions"
            case ENOSPC: fix = "free some disk space and try again"
            case EISDIR: fix = "give the path of a file, not a directory"
            default: fix = "check the path and the file system"
            }
        }
        return .io("cannot \(action) '\(path)': \(String(cString: strerror(code)))", hint: fix)
    }

    /// Reads a whole regular file.
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error("open", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw error("inspect", path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let kind = switch info.st_mode & S_IFMT {
            case S_IFDIR: "a directory"
            case S_IFCHR, S_IFBLK: "a device"
            case S_IFIFO: "a pipe"
            case S_IFSOCK: "a socket"
            default: "not a regular file"
            }
            throw WhittleError.io("cannot read '\(path)': it is \(kind), not a regular file", hint: "give the path of a regular file")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw error("read", path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }

    /// Writes `bytes` to a new or truncated file; with `sync`, flushes it to stable storage.
    static func writeFile(_ bytes: [UInt8], to path: String, sync: Bool) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error("create", path) }
        do {
            try writeAll(bytes, to: fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        if sync, fsync(fd) != 0 {
            let failure = error("fsync", path)
            close(fd)
            throw failure
        }
        guard close(fd) == 0 else { throw error("close", path) }
    }

    /// Appends `bytes` to `path` (created if missing) in one write to an O_APPEND descriptor.
    static func append(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error("open", path) }
        defer { close(fd) }
        try writeAll(bytes, to: fd, path: path)
    }

    /// Flushes a directory's entries (new names, renames) to stable storage.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error("open directory", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error("fsync directory", path) }
    }

    /// Whether something exists at `path` (without following a final symlink).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Whether `path` is a directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
