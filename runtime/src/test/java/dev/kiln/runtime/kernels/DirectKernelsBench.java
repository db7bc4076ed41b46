package dev.kiln.runtime.kernels;

import dev.kiln.runtime.NDArray;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Random;

import static dev.kiln.runtime.Elements.F32;

/**
 * Micro-benchmark (not a test; prints, asserts nothing) of the direct kernels against the tensor-level ones:
 * GFLOP/s of {@link DirectGemm#sgemm} vs {@link Gemm#sgemm} (OpenBLAS) for the MLP 784-512-512-10 layers at batch
 * 1 and 32 and a small-m sweep ({@code sweep} as argument: the crossover sweep instead; {@code conv}: only im2col and pooling), and microseconds per call of {@link DirectConv#im2colF32} and
 * {@link DirectPool#maxPool2dF32} on LeNet shapes. Run with the test class path and
 * {@code --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED} (add {@code -Dkiln.vector=false}
 * for the plain-Java kernels). Each figure is the best of many short timed rounds after warm-up, single caller
 * thread; OpenBLAS uses its configured thread count (printed).
 */
public final class DirectKernelsBench {
    private static final Arena ARENA = Arena.ofShared();
    private static volatile float sink;

    private DirectKernelsBench() {}

    /** A body run {@code reps} times per timed round. */
    private interface Body {
        void run(int reps);
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("sweep")) {
            sweep();
            return;
        }
        if (args.length > 0 && args[0].equals("conv")) {
            convAndPool();
            return;
        }
        System.out.printf(Locale.ROOT, "vector API: %s, small-m Java kernel up to m=%d, %s, OpenBLAS threads %d%n",
                DirectGemm.usesVectorApi(), DirectGemm.SMALL_M, Gemm.backend(), Gemm.threads());
        int[][] mlp = {{784, 512}, {512, 512}, {512, 10}};
        for (int m : new int[] {1, 32}) {
            double directTotal = 0, blasTotal = 0;
            for (int[] layer : mlp) {
                double[] t = gemm(m, layer[1], layer[0], true);
                directTotal += t[0];
                blasTotal += t[2];
            }
            System.out.printf(Locale.ROOT, "MLP 784-512-512-10 batch %d: DirectGemm %.4f ms, Gemm.sgemm %.4f ms%n",
                    m, directTotal * 1e3, blasTotal * 1e3);
        }
        System.out.println("small-m sweep, n=512 k=512:");
        for (int m : new int[] {1, 2, 3, 4, 6, 8, 12, 16, 24, 32}) gemm(m, 512, 512, true);
        for (int m : new int[] {1, 4, 8, 16}) gemm(m, 512, 512, false);
        for (int m : new int[] {1, 8, 16}) gemm(m, 64, 64, true);
        convAndPool();
    }

    /** Crossover search: the Java kernel against OpenBLAS for growing m ({@code kiln.threads} sets BLAS threads). */
    private static void sweep() {
        System.out.printf(Locale.ROOT, "crossover sweep, OpenBLAS threads %d%n", Gemm.threads());
        int[][] shapes = {{512, 512, 1}, {512, 784, 1}, {64, 64, 1}, {784, 25, 0}, {100, 150, 0}, {1024, 1024, 0}};
        for (int[] s : shapes) {
            for (int m : new int[] {8, 16, 32, 64, 128, 256}) gemm(m, s[0], s[1], s[2] == 1);
        }
    }

    /** Seconds per call of DirectGemm, the Java kernel alone and Gemm.sgemm; prints GFLOP/s. */
    private static double[] gemm(int m, int n, int k, boolean transB) {
        Random r = new Random(1);
        MemorySegment a = random(r, (long) m * k), b = random(r, (long) n * k), c = ARENA.allocate(4L * m * n, 64);
        int ldb = transB ? k : n;
        double direct = time(reps -> {
            for (int i = 0; i < reps; i++) DirectGemm.sgemm(m, n, k, a, k, b, ldb, transB, c, n);
        });
        SmallGemm small = SmallGemm.best();
        double java = time(reps -> {
            for (int i = 0; i < reps; i++) small.sgemm(m, n, k, a, k, b, ldb, transB, c, n);
        });
        double blas = time(reps -> {
            for (int i = 0; i < reps; i++) Gemm.sgemm(false, transB, m, n, k, 1f, a, 0, k, b, 0, ldb, 0f, c, 0, n);
        });
        double flop = 2.0 * m * n * k;
        System.out.printf(Locale.ROOT, "  sgemm m=%-3d n=%-4d k=%-4d %s: DirectGemm %7.2f GFLOP/s (%8.2f us), "
                        + "Java kernel %7.2f, Gemm.sgemm (OpenBLAS) %7.2f GFLOP/s (%8.2f us)%n", m, n, k,
                transB ? "B^T" : "B  ", flop / direct / 1e9, direct * 1e6, flop / java / 1e9, flop / blas / 1e9,
                blas * 1e6);
        return new double[] {direct, java, blas};
    }

    private static void convAndPool() {
        Random r = new Random(2);
        // LeNet conv1: 1x28x28, 5x5, pad 2 -> 28x28; conv2: 6x14x14, 5x5 -> 10x10
        int[][] convs = {{1, 28, 28, 2, 28}, {6, 14, 14, 0, 10}};
        for (int[] cv : convs) {
            int ch = cv[0], h = cv[1], w = cv[2], p = cv[3], o = cv[4];
            MemorySegment x = random(r, (long) ch * h * w);
            MemorySegment col = ARENA.allocate(4L * ch * 25 * o * o, 64);
            double direct = time(reps -> {
                for (int i = 0; i < reps; i++) DirectConv.im2colF32(x, ch, h, w, 5, 5, 1, 1, p, p, 1, 1, o, o, col);
            });
            Im2col.Geometry g = new Im2col.Geometry(ch, h, w, 5, 5, 1, 1, p, p, 1, 1, o, o);
            double ref = time(reps -> {
                for (int i = 0; i < reps; i++) Im2col.fill(x, 0, (long) ch * h * w, 1, false, g, col);
            });
            System.out.printf(Locale.ROOT, "im2col %dx%dx%d 5x5 pad %d -> %dx%d: DirectConv.im2colF32 %.2f us, "
                    + "Im2col.fill %.2f us%n", ch, h, w, p, o, o, direct * 1e6, ref * 1e6);
        }
        // LeNet pools: 6x28x28 -> 6x14x14 and 16x10x10 -> 16x5x5, 2x2 stride 2
        int[][] pools = {{6, 28}, {16, 10}};
        for (int[] pl : pools) {
            int planes = pl[0], h = pl[1], o = h / 2;
            MemorySegment x = random(r, (long) planes * h * h), out = ARENA.allocate(4L * planes * o * o, 64);
            double direct = time(reps -> {
                for (int i = 0; i < reps; i++) DirectPool.maxPool2dF32(x, planes, h, h, 2, 2, 2, 2, 0, 0, 1, 1, o, o, out);
            });
            NDArray xt = NDArray.wrap(x, dev.kiln.ir.DType.F32, new long[] {1, planes, h, h},
                    new long[] {(long) planes * h * h, (long) h * h, h, 1}, 0);
            double ref = time(reps -> {
                for (int i = 0; i < reps; i++) {
                    sink += Pool.maxPool2d(xt, new int[] {2}, new int[] {2}, null, null, false).getFloat(0);
                }
            });
            double avg = time(reps -> {
                for (int i = 0; i < reps; i++) DirectPool.avgPool2dF32(x, planes, h, h, 2, 2, 2, 2, 0, 0, o, o, false, out);
            });
            System.out.printf(Locale.ROOT, "maxpool %dx%dx%d 2x2/2: DirectPool.maxPool2dF32 %.2f us, "
                    + "Pool.maxPool2d %.2f us; DirectPool.avgPool2dF32 %.2f us%n", planes, h, h, direct * 1e6,
                    ref * 1e6, avg * 1e6);
        }
    }

    /**
     * Best seconds per repetition over 60 rounds of about 2 ms, after about 0.5 s of warm-up. Short rounds and
     * the minimum keep the figure meaningful on a shared machine, where most rounds get preempted.
     */
    private static double time(Body body) {
        int reps = 1;
        long warmEnd = System.nanoTime() + 500_000_000L;
        while (System.nanoTime() < warmEnd) {
            body.run(reps);
            if (reps < 1 << 20) reps *= 2;
        }
        reps = 1;
        while (true) {
            long t0 = System.nanoTime();
            body.run(reps);
            if (System.nanoTime() - t0 > 2_000_000L) break;
            reps *= 2;
        }
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 60; round++) {
            long t0 = System.nanoTime();
            body.run(reps);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9 / reps);
        }
        return best;
    }

    private static MemorySegment random(Random r, long n) {
        MemorySegment s = ARENA.allocate(4 * n, 64);
        for (long i = 0; i < n; i++) s.setAtIndex(F32, i, r.nextFloat() * 2 - 1);
        return s;
    }
}
