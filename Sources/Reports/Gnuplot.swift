import Foundation
import IntermodalCore
import SystemPackage

/// A plot: its gnuplot commands (data inline, no terminal or output), title and caption.
public struct Figure: Sendable {
    /// File name without extension (`startup-latency`).
    public var name: String
    public var title: String
    /// What a reader must know to read it (what was measured, n, what is estimated).
    public var caption: String
    /// Gnuplot commands after the terminal is set; they end with the `plot` command.
    public var body: String
    /// What the image itself must say when copied away from the report (the accelerator when it
    /// is not KVM on bare metal); nil: nothing.
    public var mark: String?

    public init(name: String, title: String, caption: String, body: String, mark: String? = nil) {
        self.name = name
        self.title = title
        self.caption = caption
        self.body = body
        self.mark = mark
    }
}

/// Writes figures as gnuplot scripts and renders each to SVG and PNG with the `gnuplot` binary.
public enum Gnuplot {
    public static let width = 960, height = 540

    /// The whole script: the body once for SVG, once for PNG, so each output stands alone (a
    /// multiplot cannot be replotted).
    public static func script(_ f: Figure) -> String {
        let mark = f.mark.map { "set label 99 \(quoted($0)) at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front\n" } ?? ""
        return """
        # \(comment(f.title))
        # \(comment(f.caption))
        # Rendered by `intermodal report`; run `gnuplot \(f.name).gp` in this directory to redo it.
        set terminal svg size \(width),\(height) fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
        set output '\(f.name).svg'
        \(mark)\(f.body)
        unset output
        reset
        set terminal pngcairo size \(width),\(height) noenhanced font 'DejaVu Sans,11' background '#ffffff'
        set output '\(f.name).png'
        \(mark)\(f.body)
        unset output

        """
    }

    /// Writes `NAME.gp` into `directory` and runs gnuplot there: `NAME.svg` and `NAME.png`.
    public static func render(_ f: Figure, in directory: FilePath) async throws(IntermodalError) {
        guard HostCommand.find("gnuplot") != nil else {
            throw IntermodalError(.unsupported, "gnuplot is not installed (scripts/setup installs gnuplot-nox); plots cannot be rendered")
        }
        try FileSystem.writeAtomically(script(f), to: directory.appending("\(f.name).gp"))
        try await HostCommand.check("gnuplot", ["\(f.name).gp"], workingDirectory: directory)
        for ext in ["svg", "png"] where !FileSystem.exists(directory.appending("\(f.name).\(ext)")) {
            throw IntermodalError(.externalFailure, "gnuplot wrote no \(f.name).\(ext)")
        }
    }

    /// `s` as a single-quoted gnuplot string: the one way a string from a results file enters a
    /// script. A single-quoted string interprets nothing but `''`; a line break would end the
    /// command and start another (`!cmd` runs a shell), so control characters become spaces.
    public static func quoted(_ s: String) -> String {
        "'" + printable(s).replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// Text for a `#` comment line: one line, whatever it held.
    static func comment(_ s: String) -> String { printable(s) }

    static func printable(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    }

    /// A named inline data block.
    public static func dataBlock(_ name: String, _ rows: [[String]]) -> String {
        "$\(name) << EOD\n" + rows.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\nEOD\n"
    }

    /// A label usable as a data column (double-quoted, one line; a data block interprets nothing).
    public static func column(_ s: String) -> String {
        "\"" + printable(s).replacingOccurrences(of: "\"", with: "'") + "\""
    }

    /// A number as gnuplot reads it.
    public static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "NaN" }
}
