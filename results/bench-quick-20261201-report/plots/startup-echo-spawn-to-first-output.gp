# Start-up latency: echo:spawn-to-first-output
# Box plots (median, quartiles, whiskers at 1.5 IQR, outliers as points) of every measured sample, log scale. native n=10, intermodal n=10, intermodal-lib n=10, runc n=10, crun n=10, vm n=5.
# Rendered by `intermodal report`; run `gnuplot startup-echo-spawn-to-first-output.gp` in this directory to redo it.
set terminal svg size 960,540 fixed noenhanced font 'DejaVu Sans,12' background '#ffffff'
set output 'startup-echo-spawn-to-first-output.svg'
$s0_0 << EOD
2.769542
2.555006
2.013174
2.553694
2.550065
2.456015
2.439149
2.669713
2.648616
2.231189
EOD
$s0_1 << EOD
23.544251
20.233396
22.013045
19.984826
17.813855
22.070873
20.046807
21.611443
21.118274
22.48002
EOD
$s0_2 << EOD
9.117265
9.630308
7.647261
9.174612
9.522737
9.358873
10.167372
9.457649
8.668876
8.664559
EOD
$s0_3 << EOD
49.373514
25.715214
37.871007
21.349353
26.847818
42.173842
39.295427
31.686034
34.558826
25.923098
EOD
$s0_4 << EOD
8.609792
9.680437
8.081886
9.505007
10.213613
9.086479
10.338535
9.95493
6.742337
7.778961
EOD
$s0_5 << EOD
4411.745603
3409.403618
3659.49667
3432.167647
3756.112442
EOD
set title 'Start-up: echo:spawn-to-first-output'
set ylabel 'echo:spawn-to-first-output (ms, log scale)'
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
set output 'startup-echo-spawn-to-first-output.png'
replot
unset output
