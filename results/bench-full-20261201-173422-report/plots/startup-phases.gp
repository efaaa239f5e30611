# Where start-up time goes
# Each backend's phase marks (recorded by its library, ms after the spawn) sorted by median offset; each interval is attributed to the part it ends (runtime set-up, kernel, init, command, cleanup). Backends that record no phases are absent.
# Rendered by `intermodal report`; run `gnuplot startup-phases.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-phases.svg'
$phases << EOD
"intermodal-lib 11.0 ms" 53.96660513345363 0.0 0.0 32.50407920644845 13.529315660097916 0.0
"vm 4959 ms" 12.169858609913607 40.194363410266476 6.6672268318560315 2.1868774651807628 38.78167368278312 0.0
"vm-full 33060 ms" 93.71013686593562 0.0 0.13430923498683586 0.673089186598837 5.4824647124787065 0.0
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
