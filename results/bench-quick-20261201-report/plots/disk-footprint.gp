# Disk footprint
# Median allocated bytes (blocks, not apparent sizes): what all instances share once, and what each instance adds.
# Rendered by `intermodal report`; run `gnuplot disk-footprint.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'disk-footprint.svg'
$disk << EOD
"native" 1.9609375 0.0
"intermodal" 2.9765625 0.00390625
"intermodal-lib" 2.9765625 0.00390625
"runc" 1.9609375 0.0
"crun" 1.9609375 0.0
"vm" 33.234375 0.375
EOD
set title 'Disk footprint: shared and per-instance bytes'
set ylabel 'allocated bytes on disk (MiB)'
set xlabel 'backend'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -20
set key top left
set grid ytics
plot $disk using 2:xtic(1) title 'shared (image, base disk)' lc rgb '#1f77b4', '' using 3 title 'per instance (writable layer, overlay disk)' lc rgb '#ff7f0e'

unset output
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'disk-footprint.png'
replot
unset output
