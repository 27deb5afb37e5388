#if canImport(Glibc)
import Glibc
#endif

/// Whether this test process was built with a sanitizer (`swift test --sanitize=address` or `=thread`), and so is
/// the `streamgate` binary it starts, built alongside. Memory figures then include the sanitizer's own shadow and
/// quarantine, so bounds on RSS are reported but not asserted.
public enum Sanitizers {
    public static let active: Bool = {
        // RTLD_DEFAULT: the sanitizer runtimes export their entry points from the executable.
        dlsym(nil, "__asan_init") != nil || dlsym(nil, "__tsan_init") != nil
    }()
}
