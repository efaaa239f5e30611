// BenchmarkHarness: runs the same workloads natively, in our containers, in peer runtimes and in
// VMs, and measures startup latency, memory, disk footprint and throughput. Not yet written: it
// lands with the harness issue; nothing here pretends to measure anything.
