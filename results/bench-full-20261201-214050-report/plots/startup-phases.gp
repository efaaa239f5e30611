# Where start-up time goes
# Each backend's phase marks (recorded by its library, ms after the spawn) sorted by median offset; each interval is attributed to the part it ends (runtime set-up, kernel, init, command, cleanup). Backends that record no phases are absent.
# Rendered by `intermodal report`; run `gnuplot startup-phases.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-phases.svg'
$phases << EOD
"intermodal-lib 14.3 ms" 54.85107260629336 0.0 0.0 34.602492271128796 10.54643512257785 0.0
"vm 5987 ms" 18.81466393661042 40.92397874987867 7.412098465517324 2.3110868907289808 30.538171957264606 0.0
"vm-full 34086 ms" 92.88475154259385 0.0 0.1474512293830649 1.0487273444495528 5.91906988357353 0.0
EOD
set title 'Where start-up time goes (median of each phase mark)'
set ylabel 'share of start-up (%)'
set xlabel 'backend and its median start-up (ms)'
set yrange [0:100]
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -20
set key outside right
set grid ytics
plot $phases using 2:xtic(1) title 'runtime set-up' lc rgb '#1f77b4', \
     '' using 3 title 'kernel' lc rgb '#ff7f0e', \
     '' using 4 title 'init' lc rgb '#2ca02c', \
     '' using 5 title 'command' lc rgb '#d62728', \
     '' using 6 title 'cleanup' lc rgb '#9467bd', \
     '' using 7 title 'unattributed' lc rgb '#8c564b'

unset output
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'startup-phases.png'
replot
unset output
