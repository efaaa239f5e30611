# Start-up latency: true:spawn-to-exit
# Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. native n=20, intermodal n=20, intermodal-lib n=20, runc n=20, crun n=20, podman n=20, docker n=20, vm n=10, vm-full n=3.
# Rendered by `intermodal report`; run `gnuplot startup-true-spawn-to-exit.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-true-spawn-to-exit.svg'
$s0_0 << EOD
2.574699
10.921886
4.475468
2.81007
2.769007
2.519852
3.322111
2.517734
2.263861
4.742567
8.396132
2.241154
7.140029
13.616529
6.054987
6.282416
8.443095
10.609515
2.440406
2.702905
EOD
$s0_1 << EOD
38.205559
131.429215
28.968894
26.938896
21.706362
21.927095
24.989653
24.422416
23.066915
61.192873
76.612661
88.777704
62.101958
83.440518
87.879774
61.00947
53.019258
56.444309
20.503462
19.066024
EOD
$s0_2 << EOD
16.570949
17.367875
16.104741
13.574994
13.24653
15.274448
10.43728
17.322635
34.37321
76.625709
24.621591
47.314235
32.606507
30.261794
45.53094
37.971658
44.514358
26.539914
11.634466
10.281979
EOD
$s0_3 << EOD
31.721618
135.453815
52.899372
33.467565
39.341322
28.813238
30.861495
41.056509
39.347038
85.054403
32.74492
76.039479
64.198692
68.368028
60.407804
54.381875
77.058473
47.068496
29.299848
27.769116
EOD
$s0_4 << EOD
19.835945
43.359346
16.507103
19.480527
15.093827
20.279744
8.417763
22.530458
13.20501
34.927504
27.970142
36.307877
34.799086
38.355635
30.937225
26.293538
29.97646
30.618346
15.81582
17.461941
EOD
$s0_5 << EOD
270.56578
235.770154
191.33544
202.973091
171.828955
180.050085
162.351581
203.518446
379.293329
317.227436
344.188399
300.970809
370.129607
399.497424
416.637429
391.076759
385.979621
333.696073
190.577608
233.512933
EOD
$s0_6 << EOD
404.187548
1655.588683
457.667591
275.065663
286.69907
222.571368
228.472278
338.586847
348.678159
487.057986
383.859125
502.204987
416.061957
478.515278
517.558869
408.808927
355.972783
388.453681
287.594322
294.258309
EOD
$s0_7 << EOD
8948.550996
5063.718655
4468.054059
5999.050118
4968.912158
5007.542946
5079.785321
4703.81264
5162.908005
5447.525881
EOD
$s0_8 << EOD
68615.654937
74893.069596
33493.311261
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
