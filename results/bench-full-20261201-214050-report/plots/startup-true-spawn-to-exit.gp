# Start-up latency: run true, spawn to exit
# Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. native n=20, intermodal n=20, intermodal-lib n=20, runc n=20, crun n=20, podman n=20, docker n=20, vm n=10, vm-full n=3.
# Rendered by `intermodal report`; run `gnuplot startup-true-spawn-to-exit.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-true-spawn-to-exit.svg'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
$s0_0 << EOD
2.013391
2.993199
2.912606
4.501127
3.869737
2.68224
3.076047
3.272353
2.386356
3.155809
2.970187
2.457135
3.544388
3.087833
3.265342
2.25029
2.454174
4.232095
3.711591
2.255863
EOD
$s0_1 << EOD
19.954111
22.940237
20.509535
24.334293
23.246427
23.829972
21.856286
26.891129
25.719878
27.23451
29.717811
24.256251
29.334947
24.567117
22.276029
21.386578
23.714859
29.188348
28.039103
22.044268
EOD
$s0_2 << EOD
13.663741
11.253889
17.140619
16.225721
14.844324
14.065247
13.457117
11.879828
9.73319
16.315459
16.78403
17.084777
18.901411
16.127391
14.424964
14.11752
17.02522
16.270913
23.314381
13.069385
EOD
$s0_3 << EOD
28.65977
28.019517
45.329318
31.344486
38.548547
27.623017
36.771728
32.847305
30.760968
34.5426
33.739035
39.547748
44.137858
40.9759
34.877659
39.29217
45.807816
37.676525
40.78235
41.677644
EOD
$s0_4 << EOD
16.928346
25.780384
12.085387
20.130856
21.563138
26.139677
15.406156
21.51935
20.130137
11.905778
17.286057
11.888232
22.162798
18.968236
14.764091
19.28834
18.57345
17.17333
14.485425
18.652405
EOD
$s0_5 << EOD
182.962528
185.918507
237.843386
207.401572
210.609522
207.046665
214.35518
194.844019
184.532769
247.115503
242.39727
263.601361
242.607057
208.608916
247.904647
253.92799
217.825155
210.962948
215.894339
208.592637
EOD
$s0_6 << EOD
358.683818
279.530126
334.983029
353.730169
295.660849
333.358679
336.15292
329.857697
289.319997
346.59421
354.55209
321.6239
421.452356
327.152049
317.067222
282.953815
332.239715
345.751085
284.394364
314.047839
EOD
$s0_7 << EOD
4636.465609
5208.160512
4276.845534
4867.582869
5200.783655
5809.669392
5552.241832
5109.442854
5883.667231
6186.895559
EOD
$s0_8 << EOD
30929.463188
32867.992515
32995.224785
EOD
set title 'Start-up: run true, spawn to exit'
set ylabel 'time (ms, log scale)'
set xlabel 'backend (containers blue, VMs red)'
set xtics rotate by -30
set bmargin 6
set logscale y
set grid ytics mytics
set style boxplot outliers pointtype 7
set style fill solid 0.35 border -1
set boxwidth 0.63
set xtics ('native' 1, 'intermodal' 2, 'intermodal-lib' 3, 'runc' 4, 'crun' 5, 'podman' 6, 'docker' 7, 'vm' 8, 'vm-full' 9)
set xrange [0.4:9.6]
set key off
plot $s0_0 using (1.0):1 with boxplot lc rgb '#7f7f7f' notitle, \
     $s0_1 using (2.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_2 using (3.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_3 using (4.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_4 using (5.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_5 using (6.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_6 using (7.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_7 using (8.0):1 with boxplot lc rgb '#d62728' notitle, \
     $s0_8 using (9.0):1 with boxplot lc rgb '#8b0000' notitle

unset output
reset
set terminal pngcairo size 960,540 noenhanced font 'DejaVu Sans,11' background '#ffffff'
set output 'startup-true-spawn-to-exit.png'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
$s0_0 << EOD
2.013391
2.993199
2.912606
4.501127
3.869737
2.68224
3.076047
3.272353
2.386356
3.155809
2.970187
2.457135
3.544388
3.087833
3.265342
2.25029
2.454174
4.232095
3.711591
2.255863
EOD
$s0_1 << EOD
19.954111
22.940237
20.509535
24.334293
23.246427
23.829972
21.856286
26.891129
25.719878
27.23451
29.717811
24.256251
29.334947
24.567117
22.276029
21.386578
23.714859
29.188348
28.039103
22.044268
EOD
$s0_2 << EOD
13.663741
11.253889
17.140619
16.225721
14.844324
14.065247
13.457117
11.879828
9.73319
16.315459
16.78403
17.084777
18.901411
16.127391
14.424964
14.11752
17.02522
16.270913
23.314381
13.069385
EOD
$s0_3 << EOD
28.65977
28.019517
45.329318
31.344486
38.548547
27.623017
36.771728
32.847305
30.760968
34.5426
33.739035
39.547748
44.137858
40.9759
34.877659
39.29217
45.807816
37.676525
40.78235
41.677644
EOD
$s0_4 << EOD
16.928346
25.780384
12.085387
20.130856
21.563138
26.139677
15.406156
21.51935
20.130137
11.905778
17.286057
11.888232
22.162798
18.968236
14.764091
19.28834
18.57345
17.17333
14.485425
18.652405
EOD
$s0_5 << EOD
182.962528
185.918507
237.843386
207.401572
210.609522
207.046665
214.35518
194.844019
184.532769
247.115503
242.39727
263.601361
242.607057
208.608916
247.904647
253.92799
217.825155
210.962948
215.894339
208.592637
EOD
$s0_6 << EOD
358.683818
279.530126
334.983029
353.730169
295.660849
333.358679
336.15292
329.857697
289.319997
346.59421
354.55209
321.6239
421.452356
327.152049
317.067222
282.953815
332.239715
345.751085
284.394364
314.047839
EOD
$s0_7 << EOD
4636.465609
5208.160512
4276.845534
4867.582869
5200.783655
5809.669392
5552.241832
5109.442854
5883.667231
6186.895559
EOD
$s0_8 << EOD
30929.463188
32867.992515
32995.224785
EOD
set title 'Start-up: run true, spawn to exit'
set ylabel 'time (ms, log scale)'
set xlabel 'backend (containers blue, VMs red)'
set xtics rotate by -30
set bmargin 6
set logscale y
set grid ytics mytics
set style boxplot outliers pointtype 7
set style fill solid 0.35 border -1
set boxwidth 0.63
set xtics ('native' 1, 'intermodal' 2, 'intermodal-lib' 3, 'runc' 4, 'crun' 5, 'podman' 6, 'docker' 7, 'vm' 8, 'vm-full' 9)
set xrange [0.4:9.6]
set key off
plot $s0_0 using (1.0):1 with boxplot lc rgb '#7f7f7f' notitle, \
     $s0_1 using (2.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_2 using (3.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_3 using (4.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_4 using (5.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_5 using (6.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_6 using (7.0):1 with boxplot lc rgb '#1f77b4' notitle, \
     $s0_7 using (8.0):1 with boxplot lc rgb '#d62728' notitle, \
     $s0_8 using (9.0):1 with boxplot lc rgb '#8b0000' notitle

unset output
