import IntermodalCore
import SystemPackage

/// What a report wrote: its Markdown, its HTML and every plot file.
public struct RenderedReport: Sendable {
    public var markdown: FilePath
    public var html: FilePath
    /// Every plot file (`.gp`, `.svg`, `.png`).
    public var plots: [FilePath]
}

/// Writes a report document and its figures: the plots rendered by gnuplot into `DIR/plots`,
/// then `DIR/report.md` and `DIR/report.html` with the SVGs inline. Every report goes through
/// here: the single-file one (which adds its summary), the fleet's and the history.
enum Rendering {
    static func write(_ doc: Document, _ figures: [Figure], to directory: FilePath) async throws(IntermodalError) -> RenderedReport {
        let plotDir = directory.appending("plots")
        try FileSystem.createDirectory(directory)
        try FileSystem.createDirectory(plotDir)
        var svg: [String: String] = [:]
        var plots: [FilePath] = []
        for f in figures {
            try await Gnuplot.render(f, in: plotDir)
            svg[f.name] = try FileSystem.readString(plotDir.appending("\(f.name).svg"))
            plots += ["gp", "svg", "png"].map { plotDir.appending("\(f.name).\($0)") }
        }
        let md = directory.appending("report.md"), html = directory.appending("report.html")
        try FileSystem.writeAtomically(Markdown.render(doc), to: md)
        try FileSystem.writeAtomically(HTML.render(doc, svg: svg), to: html)
        return RenderedReport(markdown: md, html: html, plots: plots)
    }
}
