/// Text from a results file (a host's name, a label, a backend) on its way into a gnuplot script.
/// A newline would end the quoted string and start a command of the file's choosing (`system`),
/// so control characters become spaces before the string is quoted.
///
/// The fleet and history views use only this; it stands in for the project-wide quoting helper
/// that the gnuplot-injection work adds, and should give way to it.
enum PlotText {
    /// `s` as a single-quoted gnuplot string (gnuplot's only escape there is `''`).
    static func quoted(_ s: String) -> String {
        "'" + printable(s).replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// `s` as one column of an inline data block: double-quoted, with no double quote inside.
    static func column(_ s: String) -> String {
        "\"" + printable(s).replacingOccurrences(of: "\"", with: "'") + "\""
    }

    static func printable(_ s: String) -> String {
        String(s.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
    }
}
