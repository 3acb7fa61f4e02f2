// The machine's peak rate of float32 fused multiply-adds, for the benchmarks' "fraction of peak":
// every thread runs independent chains of vector FMAs on registers (no memory traffic), enough
// chains to hide the FMA latency, for a fixed count; the program prints the GFLOP/s of all threads
// together (a multiply-add counts 2). Compiled by tools/_machine.ts with -O3 -march=native
// -fopenmp, so the vectors are the widest the CPU has.
#include <omp.h>
#include <stdio.h>

#define STEPS 160000000L

typedef float vec __attribute__((vector_size(VECTOR_BYTES)));
#define LANES (VECTOR_BYTES / 4)

// 12 chains, each its own variable so that the compiler keeps them in registers (an array of
// them was kept on the stack, which made the loop wait on memory)
#define CHAINS 12
#define EACH(op) op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10) op(11)
#define DECLARE(c) vec acc##c = a * (float)c;
#define STEP(c) acc##c = acc##c * a + b;
#define SUM(c) for (int l = 0; l < LANES; l++) sink += acc##c[l];

int main(void) {
  double start = omp_get_wtime();
  float sink = 0;
#pragma omp parallel reduction(+ : sink)
  {
    vec a, b;
    for (int l = 0; l < LANES; l++) {
      a[l] = 0.999999f;
      b[l] = 1e-7f;
    }
    EACH(DECLARE)
    for (long i = 0; i < STEPS; i++) {
      EACH(STEP)
    }
    EACH(SUM)
  }
  double seconds = omp_get_wtime() - start;
  double flops = 2.0 * CHAINS * LANES * STEPS * omp_get_max_threads();
  printf("{\"gflops\": %.1f, \"threads\": %d, \"vectorBits\": %d, \"seconds\": %.3f, \"sink\": %g}\n",
         flops / seconds / 1e9, omp_get_max_threads(), VECTOR_BYTES * 8, seconds, sink);
  return 0;
}
