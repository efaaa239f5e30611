#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import IntermodalCore

/// With `INTERMODAL_RUNTIME_PARSE_CHECK` set, the binary executes nothing: it reads argument
/// lists from stdin (one per line, arguments separated by U+001F), hands each to both readers of
/// the command line, and prints one line per list: the fast path's ``Invocation`` (or
/// `fallback`), a tab, and ArgumentParser's (or `error`, or `other` for a non-lifecycle command).
/// The runtime's tests drive it to prove that the two agree wherever the fast path decides.
enum ParseCheck {
    static var requested: Bool { getenv("INTERMODAL_RUNTIME_PARSE_CHECK") != nil }

    static func run() -> Never {
        let input = StandardStreams.readInput()
        var out = ""
        for line in String(decoding: input, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            let args = line.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            let fast = FastPath.parse(args)?.summary ?? "fallback"
            let parsed: String
            do {
                let command = try RuntimeCommand.parseAsRoot(args)
                parsed = (command as? any LifecycleCommand)?.invocation.summary ?? "other"
            } catch {
                parsed = "error"
            }
            out += fast + "\t" + parsed + "\n"
        }
        StandardStreams.writeOutput(out)
        exit(0)
    }
}
