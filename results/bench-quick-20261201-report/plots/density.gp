# How many instances fit
# Estimated, not measured at these counts: the median idle memory per instance times the count, against the host's memory (23.5 GiB). The legend gives where each line crosses it; page cache and the host's own use are ignored.
# Rendered by `intermodal report`; run `gnuplot density.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'density.svg'
set title 'Density: memory against the number of idle instances'
set xlabel 'idle instances (log scale)'
set ylabel 'memory used (GiB)'
set logscale x
set xrange [1:60106.129870129866]
set yrange [0:27.071115112304685]
set samples 400
set grid
set key outside right
plot (x * 0.00058746337890625) with lines lw 2 lc rgb '#1f77b4' title 'native: 40070 fit', \
     (x * 0.000713348388671875) with lines lw 2 lc rgb '#ff7f0e' title 'intermodal: 32999 fit', \
     (x * 0.0007171630859375) with lines lw 2 lc rgb '#2ca02c' title 'intermodal-lib: 32823 fit', \
     (x * 0.000591278076171875) with lines lw 2 lc rgb '#d62728' title 'runc: 39812 fit', \
     (x * 0.000591278076171875) with lines lw 2 lc rgb '#9467bd' title 'crun: 39812 fit', \
     (x * 0.19431686401367188) with lines lw 2 lc rgb '#8c564b' title 'vm: 121 fit', \
     23.54010009765625 with lines dt 2 lw 2 lc rgb '#000000' title 'host memory'

unset output
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'density.png'
replot
unset output
