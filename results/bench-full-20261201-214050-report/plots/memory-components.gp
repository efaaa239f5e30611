# Idle memory per instance
# Median per instance of each component (the instance's own processes, its monitor, QEMU, ...), MiB; n is the samples per backend.
# Rendered by `intermodal report`; run `gnuplot memory-components.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'memory-components.svg'
$memory << EOD
"native n=15" 0.396484375 0.0 0.0 0.0 0.0 0.0
"intermodal n=15" 0.0 0.39453125 0.1728515625 0.0 0.0 0.0
"intermodal-lib n=15" 0.0 0.4111328125 0.1728515625 0.0 0.0 0.0
"runc n=15" 0.0 0.412109375 0.0 0.0 0.0 0.0
"crun n=15" 0.0 0.42578125 0.0 0.0 0.0 0.0
"podman n=15" 0.0 0.4130859375 0.0 0.501953125 0.0 0.0
"docker n=15" 0.0 0.41015625 0.0 0.0 4.34375 0.0
"vm n=15" 0.0 0.0 0.0 0.0 0.0 194.111328125
"vm-full n=3" 0.0 0.0 0.0 0.0 0.0 775.1279296875
EOD
set title 'Idle memory per instance, by component'
set ylabel 'memory per instance (MiB)'
set xlabel 'backend'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -20
set key outside right
set grid ytics
plot $memory using 2:xtic(1) title 'process' lc rgb '#1f77b4', \
     '' using 3 title 'container' lc rgb '#ff7f0e', \
     '' using 4 title 'monitor' lc rgb '#2ca02c', \
     '' using 5 title 'conmon' lc rgb '#d62728', \
     '' using 6 title 'shim' lc rgb '#9467bd', \
     '' using 7 title 'qemu' lc rgb '#8c564b'

unset output
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'memory-components.png'
replot
unset output
