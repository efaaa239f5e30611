import Foundation
import IntermodalCore
import Reports
import SystemPackage
import Testing

/// The HTML report as a person sees it: rendered by headless Chromium, every plot image loaded,
/// with a real size and more than a blank canvas of pixels.
@Suite(.serialized) struct BrowserTests {
    /// Appended to a copy of the report (the report itself has no script): writes, for every
    /// image, whether it loaded, its natural size and how many distinct colours it has.
    static let probe = script(id: "image-check", """
      for (const img of document.images) {
        let colours = 0;
        try {
          const c = document.createElement('canvas');
          c.width = img.naturalWidth; c.height = img.naturalHeight;
          const g = c.getContext('2d'); g.drawImage(img, 0, 0);
          const d = g.getImageData(0, 0, c.width, c.height).data;
          const seen = new Set();
          for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          colours = seen.size;
        } catch (e) { colours = -1; }
        out.push([img.alt, img.complete, img.naturalWidth, img.naturalHeight, colours].join('|'));
      }
    """)

    /// A script that runs `body` once the page has loaded, with `out` an array of lines, and
    /// writes the lines into `<pre id=ID>` for `--dump-dom` to show.
    static func script(id: String, _ body: String) -> String {
        """
        <script>
        window.addEventListener('load', () => {
          const out = [];
        \(body)
          const pre = document.createElement('pre');
          pre.id = '\(id)';
          pre.textContent = out.join('\\n');
          document.body.appendChild(pre);
        });
        </script>
        """
    }

    @Test func everyPlotLoadsInHeadlessChromium() async throws {
        guard HostCommand.find("chromium") != nil else {
            Issue.record("chromium is not installed (scripts/setup installs it)")
            return
        }
        try await withTemporaryDirectory { dir in
            let file = LabelledResults(label: "synthetic", results: SyntheticResults.file(label: "synthetic"))
            let out = try await Report.write([file], to: dir.appending("report"))
            let html = try FileSystem.readString(out.html)
            let probed = dir.appending("report/probed.html")
            try FileSystem.writeAtomically(html.replacingOccurrences(of: "</body>", with: Self.probe + "</body>"), to: probed)
            let profile = dir.appending("chromium-profile")
            let common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                          "--virtual-time-budget=10000"]
            let dom = try await HostCommand.check("chromium", common + ["--dump-dom", "file://\(probed)"])
            let lines = try #require(dom.components(separatedBy: "<pre id=\"image-check\">").dropFirst().first?
                .components(separatedBy: "</pre>").first).split(separator: "\n")
            #expect(lines.count == 7, "images seen: \(lines.count)")
            for line in lines {
                let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                #expect(f.count == 5)
                #expect(f[1] == "true", "\(f[0]) did not load")
                #expect((Int(f[2]) ?? 0) > 100 && (Int(f[3]) ?? 0) > 100, "\(f[0]) has size \(f[2])x\(f[3])")
                #expect((Int(f[4]) ?? 0) > 8, "\(f[0]) has \(f[4]) colours: blank")
            }
            // The report itself, without the probe, as a screenshot (non-empty PNG).
            let shot = dir.appending("report/screenshot.png")
            _ = try await HostCommand.run("chromium", common + ["--window-size=1200,3000", "--screenshot=\(shot)", "file://\(out.html)"])
            let png = try FileSystem.readBytes(shot)
            #expect(pngSize(png).map { $0.0 == 1200 } == true && png.count > 50_000)
            // To look at it yourself: INTERMODAL_KEEP_REPORT=DIR keeps a copy of the report, plots and screenshot.
            if let keep = getenvString("INTERMODAL_KEEP_REPORT") {
                try await HostCommand.check("cp", ["-r", dir.appending("report").string, keep])
            }
        }
    }

    /// Reports every pair of overlapping text boxes of the inlined SVG, every text box outside
    /// the SVG, and whether the page is wider than the window.
    static let layoutProbe = script(id: "layout-check", """
      const svg = document.querySelector('svg');
      const frame = svg.getBoundingClientRect();
      const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim() !== '')
        .map(t => [t.textContent.trim(), t.getBoundingClientRect()]);
      for (let i = 0; i < texts.length; i++) {
        const [a, r] = texts[i];
        if (r.left < frame.left - 1 || r.right > frame.right + 1 || r.top < frame.top - 1 || r.bottom > frame.bottom + 1)
          out.push('clipped|' + a);
        for (let j = i + 1; j < texts.length; j++) {
          const [b, q] = texts[j];
          const w = Math.min(r.right, q.right) - Math.max(r.left, q.left);
          const h = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
          // A label a multiplot draws in every panel at the same place is one label.
          const same = a === b && Math.abs(r.left - q.left) < 0.5 && Math.abs(r.top - q.top) < 0.5;
          if (w > 1 && h > 1 && !same) out.push('overlap|' + a + '|' + b);
        }
      }
      out.push('texts|' + texts.length);
      out.push('width|' + document.documentElement.scrollWidth + '|' + window.innerWidth);
    """)

    /// The headline figure as a teacher pastes it: no text overlaps or leaves the image; and the
    /// report itself is no wider than a 1366 px screen.
    @Test func theHeadlineHasNoOverlappingLabelsAndTheReportFitsA1366pxScreen() async throws {
        guard HostCommand.find("chromium") != nil else {
            Issue.record("chromium is not installed (scripts/setup installs it)")
            return
        }
        try await withTemporaryDirectory { dir in
            let file = LabelledResults(label: "synthetic", results: SyntheticResults.withDensity(SyntheticResults.file(label: "synthetic")))
            let out = try await Report.write([file], to: dir.appending("report"))
            let profile = dir.appending("chromium-profile")
            let common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                          "--virtual-time-budget=10000", "--window-size=1366,900"]
            func check(_ page: FilePath) async throws -> [String] {
                let dom = try await HostCommand.check("chromium", common + ["--dump-dom", "file://\(page)"])
                return try #require(dom.components(separatedBy: "<pre id=\"layout-check\">").dropFirst().first?
                    .components(separatedBy: "</pre>").first).split(separator: "\n").map(String.init)
            }
            let svg = try FileSystem.readString(dir.appending("report/plots/headline.svg"))
            let inline = svg.components(separatedBy: "<svg").dropFirst().joined(separator: "<svg")
            let page = dir.appending("report/headline-probe.html")
            try FileSystem.writeAtomically("<!DOCTYPE html><html><body style=\"margin:0\"><svg" + inline + Self.layoutProbe + "</body></html>", to: page)
            let lines = try await check(page)
            let problems = lines.filter { $0.hasPrefix("overlap|") || $0.hasPrefix("clipped|") }
            #expect(problems.isEmpty, "headline.svg: \(problems)")
            #expect(lines.contains { $0.hasPrefix("texts|") && (Int($0.dropFirst(6)) ?? 0) > 20 }, "\(lines)")
            // The report: the probe needs an inline SVG, so the headline goes first in a copy.
            let html = try FileSystem.readString(out.html)
            let probed = dir.appending("report/report-probe.html")
            try FileSystem.writeAtomically(html.replacingOccurrences(of: "<body>", with: "<body><div style=\"display:none\"><svg" + inline + "</div>")
                .replacingOccurrences(of: "</body>", with: Self.layoutProbe + "</body>"), to: probed)
            let width = try #require(try await check(probed).first { $0.hasPrefix("width|") }).split(separator: "|")
            #expect(width.count == 3 && Int(width[1])! <= Int(width[2])!, "the report is \(width[1]) px wide in a \(width[2]) px window")
        }
    }
}
