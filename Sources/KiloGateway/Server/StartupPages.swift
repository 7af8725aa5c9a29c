#if canImport(Glibc)
import Glibc
#endif

/// Gives back to the kernel the pages of the gateway's own code that start-up touched.
///
/// The executable is static (Swift runtime, Foundation, NIO and all): loading the config, parsing
/// arguments, the dynamic loader's relocation pass and the runtime's first type lookups fault in
/// about 14 MiB of its code, 64 KiB at a time, that serving never runs again. Those are clean
/// pages of the executable file, still in the page cache after this call: `MADV_DONTNEED` only
/// unmaps them from this process, and the code serving needs is mapped again on its first use
/// (a minor fault, no disk read). Only read-and-execute mappings of the executable are touched:
/// they are never written, so nothing can be lost.
public enum StartupPages {
    /// Returns the bytes of address space advised (0 where not supported).
    @discardableResult
    public static func release() -> Int {
        #if os(Linux)
        guard let executable = realpath("/proc/self/exe", nil) else { return 0 }
        defer { free(executable) }
        let path = String(cString: executable)
        guard let maps = fopen("/proc/self/maps", "r") else { return 0 }
        defer { fclose(maps) }
        var released = 0
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, maps) > 0, let line {
            // "start-end perms offset dev inode path"
            let fields = String(cString: line).split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "r-xp", fields[5].hasPrefix(path),
                fields[5].dropFirst(path.utf8.count).allSatisfy(\.isWhitespace)
            else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16), end > start,
                let address = UnsafeMutableRawPointer(bitPattern: start)
            else { continue }
            if madvise(address, Int(end - start), MADV_DONTNEED) == 0 { released += Int(end - start) }
        }
        return released
        #else
        return 0
        #endif
    }
}
