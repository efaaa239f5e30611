# Start-up latency: echo:spawn-to-first-output
# Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. native n=20, intermodal n=20, intermodal-lib n=20, runc n=20, crun n=20, podman n=20, docker n=20, vm n=10, vm-full n=3.
# Rendered by `intermodal report`; run `gnuplot startup-echo-spawn-to-first-output.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-echo-spawn-to-first-output.svg'
$s0_0 << EOD
2.260371
2.016594
1.959066
2.874969
2.813202
1.839063
2.481784
2.031239
1.939114
2.053472
1.868507
1.802214
2.158938
3.168121
1.92092
2.877563
1.960968
2.889044
1.887548
3.001533
EOD
$s0_1 << EOD
18.372432
16.255352
16.483066
16.865182
20.627476
21.432058
17.171544
21.061626
17.847522
15.752667
19.758257
15.818769
18.027156
16.295701
15.422408
16.412541
17.508987
21.768395
16.687801
16.435147
EOD
$s0_2 << EOD
8.926322
9.381644
11.156218
12.031589
10.090246
8.095656
9.036577
11.673078
11.036373
9.118217
9.716925
8.646615
10.411158
9.051913
8.386757
9.86841
9.062343
8.658446
9.240122
8.865725
EOD
$s0_3 << EOD
25.821603
25.006691
22.909352
23.957678
22.91223
29.133273
30.768219
18.163669
23.062378
25.19112
26.162094
17.944743
25.942216
29.442167
19.569339
19.967211
23.594946
27.26011
19.07642
37.882583
EOD
$s0_4 << EOD
13.194092
7.119744
7.274384
6.819705
9.267748
7.046512
9.155022
9.627707
7.143539
6.995841
6.963595
6.668696
7.464725
8.391068
7.44376
6.643767
6.798957
9.594233
6.917414
6.859698
EOD
$s0_5 << EOD
116.898231
126.423136
116.087723
115.281395
114.856611
114.264454
101.103701
124.158043
106.478514
106.980447
118.238393
148.404306
127.452765
122.35157
103.749914
103.230381
124.852914
115.709379
116.641001
122.000072
EOD
$s0_6 << EOD
240.931622
203.530286
223.889896
200.935743
215.943923
177.386728
183.703201
182.271118
205.974305
239.204423
196.92424
214.028508
215.771869
197.062951
202.209634
210.333014
196.479906
247.021936
199.398933
197.551255
EOD
$s0_7 << EOD
3335.94806
3064.922104
3166.95696
3432.993918
3152.198211
2809.118321
2929.1462659999997
2876.1572539999997
2930.839413
2989.700758
EOD
$s0_8 << EOD
30537.105903
32034.460049
31247.518217
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
