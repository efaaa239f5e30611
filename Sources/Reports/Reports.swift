// Reports: JSON results with raw samples and machine metadata, gnuplot plots, Markdown and HTML
// reports, and `compare` for CI regression tracking. Not yet written: it lands with the reports issue.
