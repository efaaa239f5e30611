# Start-up latency: true:spawn-to-exit
# Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. native n=20, intermodal n=20, intermodal-lib n=20, runc n=20, crun n=20, podman n=20, docker n=20, vm n=10, vm-full n=3.
# Rendered by `intermodal report`; run `gnuplot startup-true-spawn-to-exit.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-true-spawn-to-exit.svg'
$s0_0 << EOD
2.231667
2.968385
2.468856
3.238749
3.026017
2.028508
2.881425
2.400118
2.056024
2.198849
2.083665
2.108249
2.120259
2.911133
1.947306
2.858964
2.125627
2.823746
2.230331
2.07878
EOD
$s0_1 << EOD
21.929576
22.591058
22.976964
23.09185
20.201897
27.117755
20.105035
21.205606
20.896138
17.982419
22.732092
18.171094
20.562179
23.703582
19.584307
18.521495
18.650982
22.512913
19.261904
18.146327
EOD
$s0_2 << EOD
13.675493
13.540464
12.781883
15.19391
15.392636
12.025822
10.571812
11.757481
13.316365
11.04975
18.874388
12.716711
18.117923
11.396859
10.855752
11.137889
10.625631
9.59201
11.40452
12.054453
EOD
$s0_3 << EOD
27.212994
24.819186
34.326397
28.292885
35.322551
29.955573
39.162985
25.440681
28.029105
33.635784
29.527353
20.1656
37.048978
31.534539
40.559431
25.102828
26.00383
31.194353
26.814311
28.028139
EOD
$s0_4 << EOD
13.890587
27.402956
15.621292
15.658129
17.987262
14.329799
38.407626
19.371579
19.664798
16.707716
12.628225
17.404683
16.016553
18.87033
16.276629
8.218493
20.66895
16.346211
14.140791
25.177009
EOD
$s0_5 << EOD
215.265174
181.795176
183.567453
176.417083
181.497303
182.841068
187.548839
164.675966
152.839964
155.932683
165.707966
263.932566
175.32974
179.691431
187.620922
167.511664
161.12592
190.433316
168.72457
151.234984
EOD
$s0_6 << EOD
277.015492
276.266772
259.591797
279.360637
278.567463
223.160536
239.203991
237.946964
240.239041
272.344036
259.412458
252.778545
246.315327
277.954453
244.738651
251.315409
263.551958
246.519398
243.350692
260.581974
EOD
$s0_7 << EOD
5503.498922
4055.493473
4954.022563
4669.800012
4821.637051
4410.505369
4550.688702
4653.229747
4934.817025
4655.101716
EOD
$s0_8 << EOD
33069.663722
33031.129617
31827.484869
EOD
set title 'Start-up: true:spawn-to-exit'
set ylabel 'true:spawn-to-exit (ms, log scale)'
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
set output 'startup-true-spawn-to-exit.png'
replot
unset output
