// The machine's peak rate of float32 fused multiply-adds, for the benchmarks' "fraction of peak":
// every thread runs independent chains of vector FMAs on registers (no memory traffic), enough
// chains to hide the FMA latency, for a fixed count; the program prints the GFLOP/s of all threads
// together (a multiply-add counts 2). Compiled by tools/_machine.ts with -O2 -march=native
// -fopenmp, so the vectors are the widest the CPU has.
#include <omp.h>
#include <stdio.h>

#define CHAINS 12
#define STEPS 20000000L

typedef float vec __attribute__((vector_size(VECTOR_BYTES)));
#define LANES (VECTOR_BYTES / 4)

int main(void) {
  double start = omp_get_wtime();
  float sink = 0;
#pragma omp parallel reduction(+ : sink)
  {
    vec acc[CHAINS];
    vec a, b;
    for (int l = 0; l < LANES; l++) {
      a[l] = 0.999999f;
      b[l] = 1e-7f;
    }
    for (int c = 0; c < CHAINS; c++) acc[c] = a * (float)c;
    for (long i = 0; i < STEPS; i++) {
      for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * a + b;
      __asm__ volatile("" : "+x"(acc[0]));
    }
    for (int c = 0; c < CHAINS; c++)
      for (int l = 0; l < LANES; l++) sink += acc[c][l];
  }
  double seconds = omp_get_wtime() - start;
  double flops = 2.0 * CHAINS * LANES * STEPS * omp_get_max_threads();
  printf("{\"gflops\": %.1f, \"threads\": %d, \"vectorBits\": %d, \"seconds\": %.3f, \"sink\": %g}\n",
         flops / seconds / 1e9, omp_get_max_threads(), VECTOR_BYTES * 8, seconds, sink);
  return 0;
}
