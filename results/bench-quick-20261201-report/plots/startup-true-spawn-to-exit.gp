# Start-up latency: true:spawn-to-exit
# Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. native n=10, intermodal n=10, intermodal-lib n=10, runc n=10, crun n=10, vm n=5.
# Rendered by `intermodal report`; run `gnuplot startup-true-spawn-to-exit.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-true-spawn-to-exit.svg'
$s0_0 << EOD
2.671573
3.054637
2.090924
2.580099
2.979989
2.489467
2.574812
3.128535
2.774807
2.554142
EOD
$s0_1 << EOD
26.702574
24.027933
28.716145
24.25317
23.373086
25.485197
22.44598
31.813679
24.921919
23.903153
EOD
$s0_2 << EOD
11.472219
12.229827
13.950679
9.607501
14.066594
12.568985
12.486222
10.857525
10.884618
12.384469
EOD
$s0_3 << EOD
31.186536
30.219719
42.981711
43.242308
35.99332
39.164302
37.655213
29.000537
32.937778
25.028261
EOD
$s0_4 << EOD
22.763837
22.872658
26.460984
40.180375
32.22051
11.026434
16.422975
16.261949
22.214272
15.150471
EOD
$s0_5 << EOD
4895.632379
5720.122039
5004.116712
5700.58775
4829.847126
EOD
set title 'Start-up: true:spawn-to-exit'
set ylabel 'true:spawn-to-exit (ms, log scale)'
set xlabel 'backend'
set logscale y
set grid ytics mytics
set style boxplot outliers pointtype 7
set style fill solid 0.35 border -1
set boxwidth 0.63
set xtics ('native' 1, 'intermodal' 2, 'intermodal-lib' 3, 'runc' 4, 'crun' 5, 'vm' 6)
set xrange [0.4:6.6]
set key off
plot $s0_0 using (1.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_1 using (2.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_2 using (3.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_3 using (4.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_4 using (5.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_5 using (6.0):1 with boxplot lc rgb '#1f77b4' notitle

unset output
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'startup-true-spawn-to-exit.png'
replot
unset output
