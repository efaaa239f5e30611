# Disk footprint
# Median allocated bytes (blocks, not apparent sizes): what all instances share once, and what each instance adds.
# Rendered by `intermodal report`; run `gnuplot disk-footprint.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'disk-footprint.svg'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
$disk << EOD
"native" 329.875 0.0
"intermodal" 454.8984375 0.00390625
"intermodal-lib" 454.8984375 0.00390625
"runc" 329.875 0.0
"crun" 329.875 0.0
"podman" 332.18359375 0.0
"docker" 332.1484375 0.0
"vm" 362.6796875 0.375
"vm-full" 852.14453125 2.0
EOD
set title 'Disk footprint: shared and per-instance bytes'
set ylabel 'allocated bytes on disk (MiB)'
set xlabel 'backend'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -25 font ',10'
set key top left
set grid ytics
plot $disk using 2:xtic(1) title 'shared (image, base disk)' lc rgb '#1f77b4', \
     '' using 3 title 'per instance (writable layer, overlay disk)' lc rgb '#ff7f0e'

unset output
reset
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'disk-footprint.png'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
$disk << EOD
"native" 329.875 0.0
"intermodal" 454.8984375 0.00390625
"intermodal-lib" 454.8984375 0.00390625
"runc" 329.875 0.0
"crun" 329.875 0.0
"podman" 332.18359375 0.0
"docker" 332.1484375 0.0
"vm" 362.6796875 0.375
"vm-full" 852.14453125 2.0
EOD
set title 'Disk footprint: shared and per-instance bytes'
set ylabel 'allocated bytes on disk (MiB)'
set xlabel 'backend'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -25 font ',10'
set key top left
set grid ytics
plot $disk using 2:xtic(1) title 'shared (image, base disk)' lc rgb '#1f77b4', \
     '' using 3 title 'per instance (writable layer, overlay disk)' lc rgb '#ff7f0e'

unset output
