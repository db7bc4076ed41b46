package dev.kiln.samples.bench;

import dev.kiln.ir.DType;
import dev.kiln.runtime.MemoryScope;
import dev.kiln.runtime.NDArray;
import dev.kiln.runtime.kernels.Gemm;

import java.util.Arrays;
import java.util.Random;

/**
 * Measures single-precision GEMM throughput through {@link Gemm#sgemm} (OpenBLAS via FFM) for square
 * matrices at several thread counts. Each configuration is warmed up, checked against a naive dot product on a
 * few entries, then timed over several repetitions; the table shows min and median time and the GFLOP/s they
 * give (2n^3 flops per call).
 *
 * <pre>java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp ... \
 *     dev.kiln.samples.bench.GemmBenchmark [--sizes 256,512,1024] [--threads 1,2] [--reps 15]</pre>
 */
public final class GemmBenchmark {
    private GemmBenchmark() {}

    public static void main(String[] args) {
        int[] sizes = {256, 512, 1024};
        int[] threads = {1, 2};
        int reps = 15;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--sizes" -> sizes = ints(args[i + 1]);
                case "--threads" -> threads = ints(args[i + 1]);
                case "--reps" -> reps = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; expected --sizes, --threads or --reps");
            }
        }
        System.out.println("sgemm benchmark: " + Gemm.backend());
        System.out.println("JVM " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors()
                + " processors, " + reps + " timed repetitions per row");
        System.out.printf("%6s %8s %12s %12s %14s %14s%n", "n", "threads", "min ms", "median ms",
                "GFLOP/s (min)", "GFLOP/s (med)");
        int before = Gemm.threads();
        try {
            for (int n : sizes) {
                for (int t : threads) {
                    Gemm.setThreads(t);
                    double[] ms = run(n, reps);
                    double flops = 2.0 * n * n * n;
                    System.out.printf("%6d %8d %12.3f %12.3f %14.1f %14.1f%n", n, t, ms[0], ms[1],
                            flops / (ms[0] * 1e6), flops / (ms[1] * 1e6));
                }
            }
        } finally {
            Gemm.setThreads(before);
        }
    }

    /** Returns {min, median} milliseconds of one n x n x n sgemm. */
    private static double[] run(int n, int reps) {
        try (MemoryScope _ = MemoryScope.open()) {
            Random r = new Random(n);
            NDArray a = random(r, n), b = random(r, n);
            NDArray c = NDArray.zeros(DType.F32, n, n);
            long warmupEnd = System.nanoTime() + 300_000_000L;
            for (int i = 0; i < 3 || System.nanoTime() < warmupEnd; i++) multiply(a, b, c, n);
            check(a, b, c, n, r);
            double[] ms = new double[reps];
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                multiply(a, b, c, n);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            return new double[] {ms[0], reps % 2 == 1 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2};
        }
    }

    private static void multiply(NDArray a, NDArray b, NDArray c, int n) {
        Gemm.sgemm(false, false, n, n, n, 1f, a.segment(), 0, n, b.segment(), 0, n, 0f, c.segment(), 0, n);
    }

    /** Guards against timing a broken call: a few entries must match a double-precision dot product. */
    private static void check(NDArray a, NDArray b, NDArray c, int n, Random r) {
        for (int s = 0; s < 8; s++) {
            int i = r.nextInt(n), j = r.nextInt(n);
            double dot = 0;
            for (int p = 0; p < n; p++) dot += (double) a.getFloat((long) i * n + p) * b.getFloat((long) p * n + j);
            double got = c.getFloat((long) i * n + j);
            if (Math.abs(got - dot) > 1e-4 * n) {
                throw new IllegalStateException("sgemm result wrong at (" + i + ", " + j + "): " + got + " vs " + dot);
            }
        }
    }

    private static NDArray random(Random r, int n) {
        float[] data = new float[n * n];
        for (int i = 0; i < data.length; i++) data[i] = r.nextFloat() * 2 - 1;
        return NDArray.of(data, n, n);
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }
}
