# Start-up latency: echo:spawn-to-first-output
# Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. native n=20, intermodal n=20, intermodal-lib n=20, runc n=20, crun n=20, podman n=20, docker n=20, vm n=10, vm-full n=3.
# Rendered by `intermodal report`; run `gnuplot startup-echo-spawn-to-first-output.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-echo-spawn-to-first-output.svg'
$s0_0 << EOD
1.993669
2.467001
5.014866
3.256493
2.348208
2.230335
2.826914
1.997439
2.162278
3.472208
6.324539
1.882459
2.087903
4.415709
2.201954
1.991731
2.127454
2.063573
2.366544
2.97547
EOD
$s0_1 << EOD
27.026971
83.254587
21.571374
22.553042
15.30479
15.185409
16.457734
21.422766
18.600876
41.552881
50.764702
64.629029
35.044799
64.442548
55.686902
46.356872
30.179873
49.124702
17.726658
16.526534
EOD
$s0_2 << EOD
14.329919
16.358092
12.201786
11.364682
8.487178
11.205535
8.139489
15.644823
22.637678
26.916687
17.751142
26.959053
19.770578
32.849066
23.021223
23.108684
20.026195
13.75641
8.944509
8.293931
EOD
$s0_3 << EOD
39.295773
85.689719
33.539617
23.556361
32.505427
21.550484
32.076852
27.562904
23.175297
55.133902
71.545599
69.425095
64.076972
53.901418
61.921577
55.83925
62.001217
53.732077
22.877688
27.233532
EOD
$s0_4 << EOD
10.364943
7.541391
12.258221
7.418807
7.795061
8.228575
6.821383
9.382441
6.802343
31.726913
22.408943
54.718528
20.848839
20.115182
27.862445
27.800575
45.258871
18.04141
7.966308
6.961462
EOD
$s0_5 << EOD
162.77248
251.24908
170.460703
129.807291
133.786824
113.569206
107.837847
127.594836
191.489531
216.61624
207.792835
344.860016
232.433082
280.670131
277.357638
204.705437
199.602582
140.327448
126.72241
122.230738
EOD
$s0_6 << EOD
293.021639
949.834539
216.403579
218.222634
220.291772
185.551544
203.6321
285.288436
268.097657
390.472132
291.080643
324.663892
342.550003
387.588322
385.015106
344.55809
340.036328
287.298504
215.051596
265.941876
EOD
$s0_7 << EOD
8174.672323
3280.39809
3616.527823
4397.589016
3574.456949
2901.775254
3108.713937
3391.817324
3209.568973
3567.589907
EOD
$s0_8 << EOD
67652.71515
49440.983168
33056.607437
EOD
set title 'Start-up: echo:spawn-to-first-output'
set ylabel 'echo:spawn-to-first-output (ms, log scale)'
set xlabel 'backend'
set logscale y
set grid ytics mytics
set style boxplot outliers pointtype 7
set style fill solid 0.35 border -1
set boxwidth 0.63
set xtics ('native' 1, 'intermodal' 2, 'intermodal-lib' 3, 'runc' 4, 'crun' 5, 'podman' 6, 'docker' 7, 'vm' 8, 'vm-full' 9)
set xrange [0.4:9.6]
set key off
plot $s0_0 using (1.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_1 using (2.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_2 using (3.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_3 using (4.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_4 using (5.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_5 using (6.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_6 using (7.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_7 using (8.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_8 using (9.0):1 with boxplot lc rgb '#1f77b4' notitle

unset output
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'startup-echo-spawn-to-first-output.png'
replot
unset output
