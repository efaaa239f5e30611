/// Text from a results file (a host's name, a label, a backend) on its way into a gnuplot script.
/// A newline would end the quoted string and start a command of the file's choosing (`system`),
/// so control characters become spaces. Gnuplot 5.4 also misreads runs of doubled quotes (`''''`
/// ends a single-quoted string), so a single quote becomes ’: inside single quotes nothing else
/// is special (no backslash escapes, no backquote substitution).
///
/// The fleet and history views use only this; it stands in for the project-wide quoting helper
/// that the gnuplot-injection work adds, and should give way to it.
enum PlotText {
    /// `s` as a single-quoted gnuplot string.
    static func quoted(_ s: String) -> String { "'" + shown(s) + "'" }

    /// What gnuplot shows of ``quoted(_:)``.
    static func shown(_ s: String) -> String { printable(s).replacingOccurrences(of: "'", with: "’") }

    /// `s` as one column of an inline data block: double-quoted, where gnuplot reads `\\` as a
    /// backslash; a double quote becomes a single one.
    static func column(_ s: String) -> String {
        "\"" + printable(s).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "'") + "\""
    }

    /// What gnuplot reads of ``column(_:)``.
    static func columnShown(_ s: String) -> String { printable(s).replacingOccurrences(of: "\"", with: "'") }

    static func printable(_ s: String) -> String {
        String(s.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
    }
}
