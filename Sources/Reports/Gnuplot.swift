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

    public init(name: String, title: String, caption: String, body: String) {
        self.name = name
        self.title = title
        self.caption = caption
        self.body = body
    }
}

/// Writes figures as gnuplot scripts and renders each to SVG and PNG with the `gnuplot` binary.
public enum Gnuplot {
    public static let width = 960, height = 540

    /// The whole script: the body once for SVG, once for PNG, so each output stands alone.
    public static func script(_ f: Figure) -> String {
        """
        # \(f.title)
        # \(f.caption)
        # Rendered by `intermodal report`; run `gnuplot \(f.name).gp` in this directory to redo it.
        set terminal svg size \(width),\(height) fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
        set output '\(f.name).svg'
        \(f.body)
        unset output
        set terminal pngcairo size \(width),\(height) noenhanced font 'DejaVu Sans,11' background '#ffffff'
        set output '\(f.name).png'
        replot
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

    /// `s` as a single-quoted gnuplot string.
    public static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    /// A named inline data block.
    public static func dataBlock(_ name: String, _ rows: [[String]]) -> String {
        "$\(name) << EOD\n" + rows.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\nEOD\n"
    }

    /// A label usable as a data column (quoted, no newlines).
    public static func column(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\n", with: " ") + "\""
    }

    /// A number as gnuplot reads it.
    public static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "NaN" }
}
