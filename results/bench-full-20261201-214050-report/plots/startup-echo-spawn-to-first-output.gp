# Start-up latency: run echo, spawn to its first output
# Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. native n=20, intermodal n=20, intermodal-lib n=20, runc n=20, crun n=20, podman n=20, docker n=20, vm n=10, vm-full n=3.
# Rendered by `intermodal report`; run `gnuplot startup-echo-spawn-to-first-output.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-echo-spawn-to-first-output.svg'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
$s0_0 << EOD
1.969971
1.912396
2.203545
3.091118
3.035862
3.219666
2.997719
2.752199
2.011454
3.050422
2.331386
2.466225
3.121475
2.879397
2.919801
2.867289
2.196591
3.034384
2.042824
2.088679
EOD
$s0_1 << EOD
15.167414
17.581416
18.483492
19.671772
17.661968
19.932224
20.279213
21.183863
21.72846
24.608016
24.51591
20.925621
26.139957
18.023597
23.455255
19.903206
19.988062
25.277111
22.855489
18.738562
EOD
$s0_2 << EOD
9.065508
9.479764
12.488407
12.40042
10.749054
12.001421
11.580584
10.601721
11.56145
12.862059
12.652082
12.068856
15.665
11.384829
11.964
13.250841
13.53677
14.308906
12.566172
9.582825
EOD
$s0_3 << EOD
20.624441
19.933116
25.917234
19.888259
27.926866
43.421491
28.737905
22.833999
25.036768
37.092564
35.521533
64.589578
43.628062
49.515126
43.135727
35.471134
28.271574
39.828771
41.699709
36.160648
EOD
$s0_4 << EOD
7.745401
10.238884
10.503021
8.818127
7.420027
9.46083
10.312891
8.523213
7.817708
10.723468
9.241123
10.298007
15.047652
10.780754
7.567366
10.971629
10.67996
10.563065
6.946168
10.068551
EOD
$s0_5 << EOD
130.860455
142.097018
151.570179
155.929467
148.700702
148.458272
160.220895
133.353036
139.206249
160.72664
149.35318
184.669972
163.199245
136.327858
171.991825
144.158825
162.490768
157.463798
126.189768
146.236797
EOD
$s0_6 << EOD
284.798423
259.357572
222.03193
251.569855
251.731347
272.916047
277.339906
257.070072
241.713938
287.989669
263.809697
277.161332
327.591261
271.728257
243.013392
267.232256
270.176302
286.749112
283.340754
269.600926
EOD
$s0_7 << EOD
4394.271712
3199.714313
3296.4619940000002
4131.64844
4167.252973
3758.232101
4493.997647
4747.18237
3612.3904629999997
4384.038993
EOD
$s0_8 << EOD
29773.988644
33064.8422
32068.503651
EOD
set title 'Start-up: run echo, spawn to its first output'
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
set output 'startup-echo-spawn-to-first-output.png'
set label 99 'guests: TCG emulation, not KVM' at screen 0.995, screen 0.015 right font ',11' textcolor rgb '#b00000' front
$s0_0 << EOD
1.969971
1.912396
2.203545
3.091118
3.035862
3.219666
2.997719
2.752199
2.011454
3.050422
2.331386
2.466225
3.121475
2.879397
2.919801
2.867289
2.196591
3.034384
2.042824
2.088679
EOD
$s0_1 << EOD
15.167414
17.581416
18.483492
19.671772
17.661968
19.932224
20.279213
21.183863
21.72846
24.608016
24.51591
20.925621
26.139957
18.023597
23.455255
19.903206
19.988062
25.277111
22.855489
18.738562
EOD
$s0_2 << EOD
9.065508
9.479764
12.488407
12.40042
10.749054
12.001421
11.580584
10.601721
11.56145
12.862059
12.652082
12.068856
15.665
11.384829
11.964
13.250841
13.53677
14.308906
12.566172
9.582825
EOD
$s0_3 << EOD
20.624441
19.933116
25.917234
19.888259
27.926866
43.421491
28.737905
22.833999
25.036768
37.092564
35.521533
64.589578
43.628062
49.515126
43.135727
35.471134
28.271574
39.828771
41.699709
36.160648
EOD
$s0_4 << EOD
7.745401
10.238884
10.503021
8.818127
7.420027
9.46083
10.312891
8.523213
7.817708
10.723468
9.241123
10.298007
15.047652
10.780754
7.567366
10.971629
10.67996
10.563065
6.946168
10.068551
EOD
$s0_5 << EOD
130.860455
142.097018
151.570179
155.929467
148.700702
148.458272
160.220895
133.353036
139.206249
160.72664
149.35318
184.669972
163.199245
136.327858
171.991825
144.158825
162.490768
157.463798
126.189768
146.236797
EOD
$s0_6 << EOD
284.798423
259.357572
222.03193
251.569855
251.731347
272.916047
277.339906
257.070072
241.713938
287.989669
263.809697
277.161332
327.591261
271.728257
243.013392
267.232256
270.176302
286.749112
283.340754
269.600926
EOD
$s0_7 << EOD
4394.271712
3199.714313
3296.4619940000002
4131.64844
4167.252973
3758.232101
4493.997647
4747.18237
3612.3904629999997
4384.038993
EOD
$s0_8 << EOD
29773.988644
33064.8422
32068.503651
EOD
set title 'Start-up: run echo, spawn to its first output'
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
