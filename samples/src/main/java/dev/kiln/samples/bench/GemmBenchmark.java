package dev.kiln.samples.bench;

import dev.kiln.runtime.kernels.DirectGemm;
import dev.kiln.runtime.kernels.Gemm;
import dev.kiln.runtime.kernels.PackedB;
import dev.kiln.runtime.kernels.PackedGemm;
import dev.kiln.runtime.kernels.Parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Kiln's f32 GEMM against OpenBLAS, side by side in one process: square matrices (n = 128 ... 2048) and the
 * anchor models' shapes (MLP 784-512-512-10 at batch 1 and 32, a Transformer encoder layer, ResNet-18
 * convolutions as im2col GEMMs), each on 1 and 2 threads. Engines: {@code kiln} is {@link DirectGemm#sgemm} as
 * generated code calls it (B packed per call where the packed kernel is chosen; the column {@code path} says which
 * kernel), {@code kiln-pre} the same with B packed once ahead ({@link PackedB}; only where B is a weight or a
 * square operand), {@code openblas} {@code cblas_sgemm} with OpenBLAS's own threads. Repetitions of the engines are
 * interleaved; the table shows GFLOP/s at the minimum and the median time, the median as a percentage of the
 * machine's peak (an FMA loop measured in this program before and after the shapes, the higher kept,
 * {@link FmaPeak}), and process CPU time over wall time while the engine ran (about the number of busy threads;
 * coarse for calls well under a millisecond). The load average is printed at the start and end.
 *
 * <pre>java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp ... \
 *     dev.kiln.samples.bench.GemmBenchmark [--sizes 128,256,512,1024,2048] [--threads 1,2] [--anchors true]
 *     [--seconds 0.5]</pre>
 */
public final class GemmBenchmark {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private GemmBenchmark() {}

    /** One GEMM shape: C[m,n] = A[m,k] * op(B); {@code weight}: B is a constant (prepacking applies). */
    private record Shape(String name, int m, int n, int k, boolean transB, boolean weight) {}

    public static void main(String[] args) {
        int[] sizes = {128, 256, 512, 1024, 2048};
        int[] threads = {1, 2};
        boolean anchors = true;
        double seconds = 0.5;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--sizes" -> sizes = ints(args[i + 1]);
                case "--threads" -> threads = ints(args[i + 1]);
                case "--anchors" -> anchors = Boolean.parseBoolean(args[i + 1]);
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; expected --sizes, --threads, --anchors or --seconds");
            }
        }
        System.out.println("GEMM benchmark: Kiln packed kernel " + PackedGemm.kernel() + " vs " + Gemm.backend());
        System.out.println("JVM " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors()
                + " processors, " + FmaPeak.lanes() + "-float vectors; load average " + load());
        List<Shape> shapes = new ArrayList<>();
        for (int n : sizes) shapes.add(new Shape("square " + n, n, n, n, false, true));
        if (anchors) shapes.addAll(anchorShapes());
        int blasBefore = Gemm.threads(), poolBefore = Parallel.threads();
        try (Arena arena = Arena.ofShared()) {
            for (int t : threads) {
                // the peak is measured before and after the shapes and the higher figure kept: on a shared
                // machine one measurement can land in a busy moment
                double before = FmaPeak.measure(t, 10);
                Gemm.setThreads(t);
                Parallel.setThreads(t);
                List<double[]> figures = new ArrayList<>();
                for (Shape s : shapes) figures.add(time(arena, s, seconds));
                double after = FmaPeak.measure(t, 10), peak = Math.max(before, after);
                System.out.printf(Locale.ROOT, "%n%d thread(s): measured FMA peak %.1f GFLOP/s (%.1f before the "
                        + "shapes, %.1f after)%n", t, peak, before, after);
                System.out.printf(Locale.ROOT, "%-30s %-8s %27s %27s %27s%n", "shape (m x n x k)", "path",
                        "kiln GF/s min/med %pk cpu", "kiln-pre", "openblas");
                for (int i = 0; i < shapes.size(); i++) System.out.println(format(shapes.get(i), figures.get(i), peak));
            }
        } finally {
            Gemm.setThreads(blasBefore);
            Parallel.setThreads(poolBefore);
        }
        System.out.println("\nload average at the end " + load());
    }

    private static List<Shape> anchorShapes() {
        List<Shape> s = new ArrayList<>();
        for (int b : new int[] {1, 32}) {
            s.add(new Shape("mlp b" + b + " 784>512", b, 512, 784, true, true));
            s.add(new Shape("mlp b" + b + " 512>512", b, 512, 512, true, true));
            s.add(new Shape("mlp b" + b + " 512>10", b, 10, 512, true, true));
        }
        s.add(new Shape("tf qkv", 128, 768, 256, true, true));
        s.add(new Shape("tf out-proj", 128, 256, 256, true, true));
        s.add(new Shape("tf ffn1", 128, 1024, 256, true, true));
        s.add(new Shape("tf ffn2", 128, 256, 1024, true, true));
        s.add(new Shape("tf q*k^T (head)", 128, 128, 64, true, false));
        s.add(new Shape("tf p*v (head)", 128, 64, 128, false, false));
        s.add(new Shape("r18 stem", 64, 12544, 147, false, false));
        s.add(new Shape("r18 layer1", 64, 3136, 576, false, false));
        s.add(new Shape("r18 layer2", 128, 784, 1152, false, false));
        s.add(new Shape("r18 layer3", 256, 196, 2304, false, false));
        s.add(new Shape("r18 layer4", 512, 49, 4608, false, false));
        return s;
    }

    /**
     * Times the engines on one shape, interleaved: per engine {min ms, median ms, cpu/wall}, NaN where the engine
     * does not apply.
     */
    private static double[] time(Arena arena, Shape s, double seconds) {
        int m = s.m(), n = s.n(), k = s.k();
        int ldb = s.transB() ? k : n;
        Random r = new Random(m * 31L + n * 7L + k);
        MemorySegment a = random(arena, r, (long) m * k), b = random(arena, r, (long) n * k);
        MemorySegment c = arena.allocate(4L * m * n, 64);
        PackedB packed = s.weight() ? PackedB.pack(b, k, n, ldb, s.transB()) : null;
        Runnable[] engines = {
            () -> DirectGemm.sgemm(m, n, k, a, k, b, ldb, s.transB(), c, n),
            packed == null ? null : () -> DirectGemm.sgemm(m, n, k, a, k, packed, c, n, null),
            () -> Gemm.sgemm(false, s.transB(), m, n, k, 1f, a, 0, k, b, 0, ldb, 0f, c, 0, n),
        };
        double flops = 2.0 * m * n * k;
        long warmupEnd = System.nanoTime() + 300_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < warmupEnd; i++) {
            for (Runnable e : engines) if (e != null) e.run();
        }
        for (Runnable e : engines) {
            if (e == null) continue;
            e.run();
            check(s, a, b, c, r);
        }
        int reps = (int) Math.max(5, Math.min(2000, seconds * 30e9 / flops));
        double[][] ms = new double[engines.length][reps];
        long[] cpu = new long[engines.length], wall = new long[engines.length];
        for (int i = 0; i < reps; i++) {
            for (int e = 0; e < engines.length; e++) {
                if (engines[e] == null) continue;
                long c0 = OS.getProcessCpuTime(), t0 = System.nanoTime();
                engines[e].run();
                long t1 = System.nanoTime();
                cpu[e] += OS.getProcessCpuTime() - c0;
                wall[e] += t1 - t0;
                ms[e][i] = (t1 - t0) / 1e6;
            }
        }
        double[] out = new double[3 * engines.length];
        for (int e = 0; e < engines.length; e++) {
            double[] t = ms[e];
            Arrays.sort(t);
            out[3 * e] = engines[e] == null ? Double.NaN : t[0];
            out[3 * e + 1] = engines[e] == null ? Double.NaN : t[reps / 2];
            out[3 * e + 2] = (double) cpu[e] / Math.max(1, wall[e]);
        }
        return out;
    }

    /** One table row: per engine GFLOP/s at min and median time, median as % of peak, cpu/wall. */
    private static String format(Shape s, double[] f, double peak) {
        double flops = 2.0 * s.m() * s.n() * s.k();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-30s %-8s",
                s.name() + " " + s.m() + "x" + s.n() + "x" + s.k() + (s.transB() ? "^T" : ""),
                DirectGemm.kernelFor(s.m(), s.n(), s.k(), s.transB()).name().toLowerCase(Locale.ROOT)));
        for (int e = 0; e < f.length / 3; e++) {
            if (Double.isNaN(f[3 * e])) {
                line.append(String.format(Locale.ROOT, " %27s", "-"));
                continue;
            }
            double best = flops / (f[3 * e] * 1e6), median = flops / (f[3 * e + 1] * 1e6);
            line.append(String.format(Locale.ROOT, " %7.1f/%6.1f %4.0f%% %5.2f", best, median, 100 * median / peak,
                    f[3 * e + 2]));
        }
        return line.toString();
    }

    /** Guards against timing a broken call: a few entries must match a double-precision dot product. */
    private static void check(Shape s, MemorySegment a, MemorySegment b, MemorySegment c, Random r) {
        for (int t = 0; t < 8; t++) {
            int i = r.nextInt(s.m()), j = r.nextInt(s.n());
            double dot = 0;
            for (int p = 0; p < s.k(); p++) {
                long bi = s.transB() ? (long) j * s.k() + p : (long) p * s.n() + j;
                dot += (double) a.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * s.k() + p)
                        * b.getAtIndex(ValueLayout.JAVA_FLOAT, bi);
            }
            double got = c.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * s.n() + j);
            if (Math.abs(got - dot) > 1e-4 * s.k()) {
                throw new IllegalStateException("sgemm " + s.name() + " wrong at (" + i + ", " + j + "): " + got
                        + " vs " + dot);
            }
        }
    }

    private static MemorySegment random(Arena arena, Random r, long count) {
        MemorySegment seg = arena.allocate(4 * count, 64);
        for (long i = 0; i < count; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, r.nextFloat() * 2 - 1);
        return seg;
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return String.format(Locale.ROOT, "%.2f", OS.getSystemLoadAverage());
        }
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }
}
