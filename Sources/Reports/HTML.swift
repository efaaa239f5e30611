import Foundation

/// HTML rendering: one self-contained file (styles inline, every plot an inlined SVG image), no
/// script and no network access, so it reads the same offline and with JavaScript off.
public enum HTML {
    /// `svg` gives each figure's SVG text by figure name.
    public static func render(_ doc: Document, svg: [String: String]) -> String {
        let out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(doc.title))</title>
        <style>
        body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
        table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
        th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
        th { background: #f2f2f2; }
        figure { margin: 1.5em 0; }
        figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
        figcaption { font-size: 0.9em; color: #444; }
        strong { color: #a00; }
        .wide { max-width: 100%; overflow-x: auto; }
        td { overflow-wrap: anywhere; }
        details { margin: 1em 0; }
        summary { cursor: pointer; font-weight: 600; }
        </style>
        </head>
        <body>
        <h1>\(escape(doc.title))</h1>

        """
        return out + blocks(doc.blocks, svg: svg) + "</body>\n</html>\n"
    }

    static func blocks(_ blocks: [Block], svg: [String: String]) -> String {
        var out = ""
        for block in blocks {
            switch block {
            case .details(let summary, let inner):
                out += "<details><summary>\(inline(summary))</summary>\n" + self.blocks(inner, svg: svg) + "</details>\n"
            case .heading(let level, let text):
                let l = min(max(level, 2), 6)
                out += "<h\(l)>\(inline(text))</h\(l)>\n"
            case .paragraph(let text): out += "<p>\(inline(text))</p>\n"
            case .list(let items): out += "<ul>\n" + items.map { "<li>\(inline($0))</li>\n" }.joined() + "</ul>\n"
            case .table(let header, let rows):
                out += "<div class=\"wide\"><table>\n<tr>" + header.map { "<th>\(inline($0))</th>" }.joined() + "</tr>\n"
                out += rows.map { "<tr>" + $0.map { "<td>\(inline($0))</td>" }.joined() + "</tr>\n" }.joined()
                out += "</table></div>\n"
            case .figure(let f):
                let data = Data((svg[f.name] ?? "").utf8).base64EncodedString()
                out += "<figure id=\"\(escape(f.name))\">\n<img class=\"plot\" alt=\"\(escape(f.title))\" "
                    + "src=\"data:image/svg+xml;base64,\(data)\">\n<figcaption>\(inline(f.caption))</figcaption>\n</figure>\n"
            }
        }
        return out
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Escapes `text` and turns `**x**` into `<strong>x</strong>` and `` `x` `` into `<code>`.
    static func inline(_ text: String) -> String {
        var out = escape(text)
        for (mark, tag) in [("**", "strong"), ("`", "code")] {
            let parts = out.components(separatedBy: mark)
            guard parts.count >= 3 else { continue }
            var joined = ""
            for (i, p) in parts.enumerated() {
                if i == 0 { joined = p; continue }
                let opening = i % 2 == 1
                // An unmatched last mark stays as it was.
                if opening, i == parts.count - 1 { joined += mark + p; continue }
                joined += (opening ? "<\(tag)>" : "</\(tag)>") + p
            }
            out = joined
        }
        return out
    }
}
