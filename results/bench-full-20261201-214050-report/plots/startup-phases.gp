# Where start-up time goes
# Each backend's phase marks (recorded by its library, ms after the spawn) sorted by median offset; each interval is attributed to the part it ends: runtime or libvirt set-up, firmware (QEMU and the BIOS), the full guest's boot loader, kernel and systemd (its marks do not separate them), the micro guest's kernel and init, the command. Cleanup after the exit is not start-up: it is in the label, not the bar. Backends that record no phases are absent.
# Rendered by `intermodal report`; run `gnuplot startup-phases.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-phases.svg'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
$phases << EOD
"intermodal-lib: 12.8 ms, +1.51 ms cleanup" 61.317928113268096 0.0 0.0 0.0 0.0 38.682071886731904 0.0
"vm: 4.16 s, +1.83 s cleanup" 13.468743512677595 15.31415656126932 0.0 58.91578137664442 8.974186287201114 3.3271322622075505 0.0
"vm-full: 32.1 s, +2.02 s cleanup" 1.1676571132695286 0.7449265503616684 96.81598059232127 0.0 0.15672807358578614 1.1147076704617378 0.0
EOD
set title 'Where start-up time goes (median of each phase mark)'
set ylabel 'share of start-up (%)'
set xlabel 'backend: median start-up (cleanup after the exit, outside the bar)'
set yrange [0:100]
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -25 font ',10'
set key outside bottom center horizontal maxrows 2 font ',10'
set grid ytics
plot $phases using 2:xtic(1) title 'runtime or libvirt set-up' lc rgb '#1f77b4', \
     '' using 3 title 'firmware' lc rgb '#ff7f0e', \
     '' using 4 title 'boot loader, kernel and systemd' lc rgb '#2ca02c', \
     '' using 5 title 'kernel' lc rgb '#9467bd', \
     '' using 6 title 'init' lc rgb '#8c564b', \
     '' using 7 title 'command' lc rgb '#e377c2', \
     '' using 8 title 'unattributed' lc rgb '#7f7f7f'

unset output
reset
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'startup-phases.png'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
$phases << EOD
"intermodal-lib: 12.8 ms, +1.51 ms cleanup" 61.317928113268096 0.0 0.0 0.0 0.0 38.682071886731904 0.0
"vm: 4.16 s, +1.83 s cleanup" 13.468743512677595 15.31415656126932 0.0 58.91578137664442 8.974186287201114 3.3271322622075505 0.0
"vm-full: 32.1 s, +2.02 s cleanup" 1.1676571132695286 0.7449265503616684 96.81598059232127 0.0 0.15672807358578614 1.1147076704617378 0.0
EOD
set title 'Where start-up time goes (median of each phase mark)'
set ylabel 'share of start-up (%)'
set xlabel 'backend: median start-up (cleanup after the exit, outside the bar)'
set yrange [0:100]
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -25 font ',10'
set key outside bottom center horizontal maxrows 2 font ',10'
set grid ytics
plot $phases using 2:xtic(1) title 'runtime or libvirt set-up' lc rgb '#1f77b4', \
     '' using 3 title 'firmware' lc rgb '#ff7f0e', \
     '' using 4 title 'boot loader, kernel and systemd' lc rgb '#2ca02c', \
     '' using 5 title 'kernel' lc rgb '#9467bd', \
     '' using 6 title 'init' lc rgb '#8c564b', \
     '' using 7 title 'command' lc rgb '#e377c2', \
     '' using 8 title 'unattributed' lc rgb '#7f7f7f'

unset output
