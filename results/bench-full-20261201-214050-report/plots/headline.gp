# Containers and VMs on this host
# Medians on linear axes, each bar labelled with its value: start-up (intermodal n=20, docker n=20, vm n=10, vm-full n=3), idle memory per instance, the image (containers) or disk (VMs) on the host, and how many idle instances fit in a GiB of host memory (measured by the density workload where it ran, else from the idle memory). Containers blue, VMs red.
# Rendered by `intermodal report`; run `gnuplot headline.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'headline.svg'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
set multiplot layout 2,2 title 'Containers and VMs on this host: medians (bench-full-20261201-214050)' margins 0.09,0.98,0.1,0.84 spacing 0.11,0.18
$headline0 << EOD
0.0 20.1336375 "intermodal" "20.1 ms" 2062260
1.0 269.888614 "docker" "270 ms" 2062260
2.0 4149.4507065 "vm" "4.15 s" 14034728
3.0 32068.503651 "vm-full" "32.1 s" 9109504
EOD
set title 'Start-up: run echo, spawn to its first output'
set ylabel 'median (ms)'
unset xlabel
set yrange [0:41689.0547463]
set xrange [-0.6:3.6]
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set format y '%.0f'
plot $headline0 using 1:2:5:xtic(3) with boxes lc rgb variable notitle, \
     $headline0 using 1:2:4 with labels offset 0,0.8 font ',10' notitle
$headline1 << EOD
0.0 0.5712890625 "intermodal" "585 KiB" 2062260
1.0 4.748046875 "docker" "4.75 MiB" 2062260
2.0 194.111328125 "vm" "194 MiB" 14034728
3.0 775.1279296875 "vm-full" "775 MiB" 9109504
EOD
set title 'Idle memory per instance'
set ylabel 'median (MiB)'
unset xlabel
set yrange [0:1007.66630859375]
set xrange [-0.6:3.6]
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set format y '%.0f'
plot $headline1 using 1:2:5:xtic(3) with boxes lc rgb variable notitle, \
     $headline1 using 1:2:4 with labels offset 0,0.8 font ',10' notitle
$headline2 << EOD
0.0 454.8984375 "intermodal" "455 MiB" 2062260
1.0 332.1484375 "docker" "332 MiB" 2062260
2.0 362.6796875 "vm" "363 MiB" 14034728
3.0 852.14453125 "vm-full" "852 MiB" 9109504
EOD
set title 'Image or VM disk on the host'
set ylabel 'allocated (MiB)'
unset xlabel
set yrange [0:1107.787890625]
set xrange [-0.6:3.6]
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set format y '%.0f'
plot $headline2 using 1:2:5:xtic(3) with boxes lc rgb variable notitle, \
     $headline2 using 1:2:4 with labels offset 0,0.8 font ',10' notitle
$headline3 << EOD
0.0 4734.689945815773 "intermodal" "4735" 2062260
1.0 357.4325353088889 "docker" "357" 2062260
2.0 5.320807662219591 "vm" "5" 14034728
3.0 1.3463287115085107 "vm-full" "1" 9109504
EOD
set title 'Idle instances per GiB of host memory'
set ylabel 'instances'
unset xlabel
set yrange [0:6155.0969295605055]
set xrange [-0.6:3.6]
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set format y '%.0f'
plot $headline3 using 1:2:5:xtic(3) with boxes lc rgb variable notitle, \
     $headline3 using 1:2:4 with labels offset 0,0.8 font ',10' notitle
unset multiplot

unset output
reset
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'headline.png'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
set multiplot layout 2,2 title 'Containers and VMs on this host: medians (bench-full-20261201-214050)' margins 0.09,0.98,0.1,0.84 spacing 0.11,0.18
$headline0 << EOD
0.0 20.1336375 "intermodal" "20.1 ms" 2062260
1.0 269.888614 "docker" "270 ms" 2062260
2.0 4149.4507065 "vm" "4.15 s" 14034728
3.0 32068.503651 "vm-full" "32.1 s" 9109504
EOD
set title 'Start-up: run echo, spawn to its first output'
set ylabel 'median (ms)'
unset xlabel
set yrange [0:41689.0547463]
set xrange [-0.6:3.6]
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set format y '%.0f'
plot $headline0 using 1:2:5:xtic(3) with boxes lc rgb variable notitle, \
     $headline0 using 1:2:4 with labels offset 0,0.8 font ',10' notitle
$headline1 << EOD
0.0 0.5712890625 "intermodal" "585 KiB" 2062260
1.0 4.748046875 "docker" "4.75 MiB" 2062260
2.0 194.111328125 "vm" "194 MiB" 14034728
3.0 775.1279296875 "vm-full" "775 MiB" 9109504
EOD
set title 'Idle memory per instance'
set ylabel 'median (MiB)'
unset xlabel
set yrange [0:1007.66630859375]
set xrange [-0.6:3.6]
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set format y '%.0f'
plot $headline1 using 1:2:5:xtic(3) with boxes lc rgb variable notitle, \
     $headline1 using 1:2:4 with labels offset 0,0.8 font ',10' notitle
$headline2 << EOD
0.0 454.8984375 "intermodal" "455 MiB" 2062260
1.0 332.1484375 "docker" "332 MiB" 2062260
2.0 362.6796875 "vm" "363 MiB" 14034728
3.0 852.14453125 "vm-full" "852 MiB" 9109504
EOD
set title 'Image or VM disk on the host'
set ylabel 'allocated (MiB)'
unset xlabel
set yrange [0:1107.787890625]
set xrange [-0.6:3.6]
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set format y '%.0f'
plot $headline2 using 1:2:5:xtic(3) with boxes lc rgb variable notitle, \
     $headline2 using 1:2:4 with labels offset 0,0.8 font ',10' notitle
$headline3 << EOD
0.0 4734.689945815773 "intermodal" "4735" 2062260
1.0 357.4325353088889 "docker" "357" 2062260
2.0 5.320807662219591 "vm" "5" 14034728
3.0 1.3463287115085107 "vm-full" "1" 9109504
EOD
set title 'Idle instances per GiB of host memory'
set ylabel 'instances'
unset xlabel
set yrange [0:6155.0969295605055]
set xrange [-0.6:3.6]
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key off
set format y '%.0f'
plot $headline3 using 1:2:5:xtic(3) with boxes lc rgb variable notitle, \
     $headline3 using 1:2:4 with labels offset 0,0.8 font ',10' notitle
unset multiplot

unset output
