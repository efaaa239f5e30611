# Idle memory per instance
# Median per instance of each component (the instance's own processes, its monitor, QEMU, ...), MiB; n is the samples per backend. Containers and VMs are in separate panels with their own scales: on one axis the containers' bars would not show.
# Rendered by `intermodal report`; run `gnuplot memory-components.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'memory-components.svg'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
set multiplot layout 1,2 title 'Idle memory per instance, by component (note the two scales)' margins 0.08,0.98,0.22,0.86 spacing 0.1
$memory0 << EOD
"native n=15" 0.396484375 0.0 0.0 0.0 0.0 0.0
"intermodal n=15" 0.0 0.39453125 0.1728515625 0.0 0.0 0.0
"intermodal-lib n=15" 0.0 0.4111328125 0.1728515625 0.0 0.0 0.0
"runc n=15" 0.0 0.412109375 0.0 0.0 0.0 0.0
"crun n=15" 0.0 0.42578125 0.0 0.0 0.0 0.0
"podman n=15" 0.0 0.4130859375 0.0 0.501953125 0.0 0.0
"docker n=15" 0.0 0.41015625 0.0 0.0 4.34375 0.0
EOD
set title 'containers and native'
set ylabel 'memory per instance (MiB)'
set xlabel 'backend'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -25 font ',10'
set key off
set grid ytics
plot $memory0 using 2:xtic(1) title 'process' lc rgb '#1f77b4', \
     '' using 3 title 'container' lc rgb '#ff7f0e', \
     '' using 4 title 'monitor' lc rgb '#2ca02c', \
     '' using 5 title 'conmon' lc rgb '#9467bd', \
     '' using 6 title 'shim' lc rgb '#8c564b', \
     '' using 7 title 'qemu' lc rgb '#e377c2'
unset title
$memory1 << EOD
"vm n=15" 0.0 0.0 0.0 0.0 0.0 194.111328125
"vm-full n=3" 0.0 0.0 0.0 0.0 0.0 775.1279296875
EOD
set title 'VMs'
set ylabel 'memory per instance (MiB)'
set xlabel 'backend'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -25 font ',10'
set key top left
set grid ytics
plot $memory1 using 2:xtic(1) title 'process' lc rgb '#1f77b4', \
     '' using 3 title 'container' lc rgb '#ff7f0e', \
     '' using 4 title 'monitor' lc rgb '#2ca02c', \
     '' using 5 title 'conmon' lc rgb '#9467bd', \
     '' using 6 title 'shim' lc rgb '#8c564b', \
     '' using 7 title 'qemu' lc rgb '#e377c2'
unset title
unset multiplot

unset output
reset
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'memory-components.png'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
set multiplot layout 1,2 title 'Idle memory per instance, by component (note the two scales)' margins 0.08,0.98,0.22,0.86 spacing 0.1
$memory0 << EOD
"native n=15" 0.396484375 0.0 0.0 0.0 0.0 0.0
"intermodal n=15" 0.0 0.39453125 0.1728515625 0.0 0.0 0.0
"intermodal-lib n=15" 0.0 0.4111328125 0.1728515625 0.0 0.0 0.0
"runc n=15" 0.0 0.412109375 0.0 0.0 0.0 0.0
"crun n=15" 0.0 0.42578125 0.0 0.0 0.0 0.0
"podman n=15" 0.0 0.4130859375 0.0 0.501953125 0.0 0.0
"docker n=15" 0.0 0.41015625 0.0 0.0 4.34375 0.0
EOD
set title 'containers and native'
set ylabel 'memory per instance (MiB)'
set xlabel 'backend'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -25 font ',10'
set key off
set grid ytics
plot $memory0 using 2:xtic(1) title 'process' lc rgb '#1f77b4', \
     '' using 3 title 'container' lc rgb '#ff7f0e', \
     '' using 4 title 'monitor' lc rgb '#2ca02c', \
     '' using 5 title 'conmon' lc rgb '#9467bd', \
     '' using 6 title 'shim' lc rgb '#8c564b', \
     '' using 7 title 'qemu' lc rgb '#e377c2'
unset title
$memory1 << EOD
"vm n=15" 0.0 0.0 0.0 0.0 0.0 194.111328125
"vm-full n=3" 0.0 0.0 0.0 0.0 0.0 775.1279296875
EOD
set title 'VMs'
set ylabel 'memory per instance (MiB)'
set xlabel 'backend'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -25 font ',10'
set key top left
set grid ytics
plot $memory1 using 2:xtic(1) title 'process' lc rgb '#1f77b4', \
     '' using 3 title 'container' lc rgb '#ff7f0e', \
     '' using 4 title 'monitor' lc rgb '#2ca02c', \
     '' using 5 title 'conmon' lc rgb '#9467bd', \
     '' using 6 title 'shim' lc rgb '#8c564b', \
     '' using 7 title 'qemu' lc rgb '#e377c2'
unset title
unset multiplot

unset output
