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
        # \(text(f.title))
        # \(text(f.caption))
        # Rendered by `intermodal report`; run `gnuplot \(text(f.name)).gp` in this directory to redo it.
        set terminal svg size \(width),\(height) fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
        set output \(quoted(f.name + ".svg"))
        \(mark)\(f.body)
        unset output
        reset
        set terminal pngcairo size \(width),\(height) noenhanced font 'DejaVu Sans,11' background '#ffffff'
        set output \(quoted(f.name + ".png"))
        \(mark)\(f.body)
        unset output

        """
    }

    /// Writes `NAME.gp` into `directory` and runs gnuplot there: `NAME.svg` and `NAME.png`.
    public static func render(_ f: Figure, in directory: FilePath) async throws(IntermodalError) {
        guard HostCommand.find("gnuplot") != nil else {
            throw IntermodalError(.unsupported, "gnuplot is not installed (scripts/setup installs gnuplot-nox); plots cannot be rendered")
        }
        try FileSystem.writeAtomically(script(f), to: try FileSystem.child(directory, "\(f.name).gp", what: "figure"))
        try await HostCommand.check("gnuplot", ["\(f.name).gp"], workingDirectory: directory)
        for ext in ["svg", "png"] where !FileSystem.exists(directory.appending("\(f.name).\(ext)")) {
            throw IntermodalError(.externalFailure, "gnuplot wrote no \(f.name).\(ext)")
        }
    }

    /// `s` as a single-quoted gnuplot string: every string from a results file goes into a script
    /// through here, ``column(_:)`` or ``text(_:)``. Gnuplot runs backquotes in double-quoted
    /// strings and `!` at the start of a line as shell commands, so a string must stay inside one
    /// single-quoted token on one line: line breaks become spaces, and a single quote becomes a
    /// typographic one (gnuplot 5.4 misreads runs of its doubled-quote escape: four quotes end the
    /// string, found by the fleet report's random-name test).
    public static func quoted(_ s: String) -> String { "'" + shown(s) + "'" }

    /// What gnuplot shows of ``quoted(_:)``.
    public static func shown(_ s: String) -> String { text(s).replacingOccurrences(of: "'", with: "\u{2019}") }

    /// `s` on one line, for a comment or inside a quoted string: control characters (a newline
    /// would start a new command) and Unicode line breaks become spaces, and a trailing backslash
    /// (gnuplot joins the next line to it) goes.
    public static func text(_ s: String) -> String {
        var out = String(String.UnicodeScalarView(s.unicodeScalars.map { c in
            c.properties.generalCategory == .control || c.properties.generalCategory == .lineSeparator
                || c.properties.generalCategory == .paragraphSeparator ? " " : c
        }))
        while out.hasSuffix("\\") { out.removeLast() }
        return out
    }

    /// A named inline data block.
    public static func dataBlock(_ name: String, _ rows: [[String]]) -> String {
        "$\(name) << EOD\n" + rows.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\nEOD\n"
    }

    /// A label usable as a data column of an inline data block: double-quoted (data is not run
    /// through the shell, so backquotes are inert there), on one line, without a double quote; a
    /// backslash doubled, as gnuplot reads one inside double quotes.
    public static func column(_ s: String) -> String {
        "\"" + text(s).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "'") + "\""
    }

    /// What gnuplot reads of ``column(_:)``.
    public static func columnShown(_ s: String) -> String { text(s).replacingOccurrences(of: "\"", with: "'") }

    /// A number as gnuplot reads it.
    public static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "NaN" }
}
