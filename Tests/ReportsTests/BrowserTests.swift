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
    static let probe = """
    <script>
    window.addEventListener('load', () => {
      const out = [];
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
      const pre = document.createElement('pre');
      pre.id = 'image-check';
      pre.textContent = out.join('\\n');
      document.body.appendChild(pre);
    });
    </script>
    """

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
            #expect(lines.count == 6, "images seen: \(lines.count)")
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
}
