/*
 * A STREAM-style memory bandwidth kernel (after John McCalpin's STREAM): copy, scale, add and
 * triad over three arrays of doubles, each run repeatedly for a fixed time; the best pass of
 * each kernel gives its rate in MB/s (10^6 bytes), counting the bytes read and written as
 * STREAM does. Our own small program, compiled into the workload image so that every backend
 * runs the same binary.
 *
 *   stream [MIB_PER_ARRAY [SECONDS]]     defaults: 32 MiB per array, 5 seconds in all
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long mib = argc > 1 ? atol(argv[1]) : 32;
    double seconds = argc > 2 ? atof(argv[2]) : 5;
    if (mib <= 0 || seconds <= 0) {
        fprintf(stderr, "usage: stream [MIB_PER_ARRAY [SECONDS]]\n");
        return 2;
    }
    size_t n = (size_t)mib * 1024 * 1024 / sizeof(double);
    double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double)), *c = malloc(n * sizeof(double));
    if (!a || !b || !c) {
        fprintf(stderr, "stream: cannot allocate 3 x %ld MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < n; i++) { a[i] = 1.0; b[i] = 2.0; c[i] = 0.0; }
    const char *names[4] = {"Copy", "Scale", "Add", "Triad"};
    /* Bytes moved per element: copy and scale read one array and write one, add and triad two and one. */
    const double bytes[4] = {2, 2, 3, 3};
    double best[4] = {1e30, 1e30, 1e30, 1e30};
    double q = 0.41421356237309515, end = now() + seconds;
    long passes = 0;
    do {
        double t[5];
        t[0] = now();
        for (size_t i = 0; i < n; i++) c[i] = a[i];
        t[1] = now();
        for (size_t i = 0; i < n; i++) b[i] = q * c[i];
        t[2] = now();
        for (size_t i = 0; i < n; i++) c[i] = a[i] + b[i];
        t[3] = now();
        for (size_t i = 0; i < n; i++) a[i] = b[i] + q * c[i];
        t[4] = now();
        for (int k = 0; k < 4; k++) if (t[k + 1] - t[k] < best[k]) best[k] = t[k + 1] - t[k];
        passes++;
    } while (now() < end || passes < 2);
    /* Keep the results live so the loops cannot be optimised away; q = sqrt(2) - 1 keeps them from
       growing or shrinking from pass to pass (a = (2q + q^2) a = a). */
    double check = a[n / 2] + b[n / 3] + c[n / 5];
    printf("stream: %ld MiB per array, %ld passes, check %g\n", mib, passes, check);
    for (int k = 0; k < 4; k++)
        printf("%s: %.1f MB/s\n", names[k], bytes[k] * sizeof(double) * n / best[k] / 1e6);
    free(a); free(b); free(c);
    return 0;
}
