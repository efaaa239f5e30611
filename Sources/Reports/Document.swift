import Foundation

/// A report as structure, rendered to Markdown and to HTML by the same walk, so the two never
/// say different things. Text may mark `**strong**` spans (the TCG accelerator, a contradiction).
public struct Document: Sendable {
    public var title: String
    public var blocks: [Block]
    public init(title: String, blocks: [Block] = []) {
        self.title = title
        self.blocks = blocks
    }
}

/// One piece of a report.
public enum Block: Sendable {
    case heading(level: Int, String)
    case paragraph(String)
    case list([String])
    case table(header: [String], rows: [[String]])
    /// A rendered plot, by its file name without extension.
    case figure(Figure)
    /// Blocks folded behind a one-line summary (`<details>`): long tables, many warnings.
    indirect case details(summary: String, [Block])
}

/// Markdown rendering.
public enum Markdown {
    public static func render(_ doc: Document, figureDirectory: String = "plots") -> String {
        "# \(doc.title)\n\n" + render(doc.blocks, figureDirectory: figureDirectory)
    }

    static func render(_ blocks: [Block], figureDirectory: String) -> String {
        var out = ""
        for block in blocks {
            switch block {
            case .details(let summary, let inner):
                // GitHub renders Markdown inside <details> when blank lines surround it.
                out += "<details><summary>\(summary)</summary>\n\n" + render(inner, figureDirectory: figureDirectory) + "</details>\n\n"
            case .heading(let level, let text): out += String(repeating: "#", count: level) + " \(text)\n\n"
            case .paragraph(let text): out += text + "\n\n"
            case .list(let items): out += items.map { "- \($0)\n" }.joined() + "\n"
            case .table(let header, let rows): out += table(header: header, rows: rows) + "\n"
            case .figure(let f):
                out += "![\(f.title)](\(figureDirectory)/\(f.name).svg)\n\n*\(f.caption)* "
                    + "([PNG](\(figureDirectory)/\(f.name).png), [gnuplot script](\(figureDirectory)/\(f.name).gp))\n\n"
            }
        }
        return out
    }

    /// A GitHub-flavoured table; `|` in cells is escaped.
    public static func table(header: [String], rows: [[String]]) -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        }
        return line(header) + line(header.map { _ in "---" }) + rows.map(line).joined()
    }
}
