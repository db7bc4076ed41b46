package dev.kiln.runtime.kernels;

import dev.kiln.ir.DType;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GemmTest {

    @Test
    void sgemmHonoursTransposeFlagsAlphaBetaAndOffsets() {
        Random r = new Random(11);
        int m = 5, n = 4, k = 3;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                NDArray a = Tensors.randomF32(r, 2 + m * k);       // two elements of leading offset
                NDArray b = Tensors.randomF32(r, 1 + k * n);
                NDArray c = Tensors.randomF32(r, 3 + m * n);
                float[] av = a.toFloatArray(), bv = b.toFloatArray(), c0 = c.toFloatArray();
                Gemm.sgemm(ta, tb, m, n, k, 2f, a.segment(), 2, ta ? m : k, b.segment(), 1, tb ? k : n,
                        0.5f, c.segment(), 3, n);
                float[] got = c.toFloatArray();
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int p = 0; p < k; p++) {
                            double x = ta ? av[2 + p * m + i] : av[2 + i * k + p];
                            double y = tb ? bv[1 + j * k + p] : bv[1 + p * n + j];
                            s += x * y;
                        }
                        assertEquals(2 * s + 0.5 * c0[3 + i * n + j], got[3 + i * n + j], 1e-5, ta + "," + tb);
                    }
                }
                for (int i = 0; i < 3; i++) assertEquals(c0[i], got[i], "elements before the offset are untouched");
            }
        }
    }

    @Test
    void batchBroadcastThroughZeroStrideViewsIsNotMistakenForStackedRows() {
        Random r = new Random(12);
        NDArray a = Tensors.randomF32(r, 1, 2, 3);
        NDArray base = Tensors.randomF32(r, 3, 4);
        NDArray b = base.broadcastTo(5, 3, 4);   // a batch of 5 sharing one matrix through a zero stride
        NDArray c = Gemm.matmul(a, b);
        assertArrayEquals(new long[] {5, 2, 4}, c.shape());
        float[] single = Gemm.matmul(a.squeeze(0), base).toFloatArray();
        float[] all = c.toFloatArray();
        for (int i = 0; i < all.length; i++) assertEquals(single[i % single.length], all[i], 1e-6);
    }

    @Test
    void emptyInnerDimensionScalesC() {
        NDArray c = NDArray.full(DType.F32, 3, 2, 2);
        NDArray empty = NDArray.zeros(DType.F32, 1);
        Gemm.sgemm(false, false, 2, 2, 0, 1f, empty.segment(), 0, 1, empty.segment(), 0, 2, 2f, c.segment(), 0, 2);
        assertArrayEquals(new float[] {6, 6, 6, 6}, c.toFloatArray());
        NDArray z = Gemm.matmul(NDArray.zeros(DType.F32, 2, 0), NDArray.zeros(DType.F32, 0, 3));
        assertArrayEquals(new float[6], z.toFloatArray());
    }

    @Test
    void vectorCasesFollowNumpy() {
        NDArray v = NDArray.of(new float[] {1, 2, 3});
        NDArray dot = Gemm.matmul(v, v);
        assertEquals(0, dot.rank());
        assertEquals(14.0, dot.item());
        NDArray m = NDArray.of(new float[] {1, 0, 0, 0, 1, 0}, 2, 3);
        assertArrayEquals(new float[] {1, 2}, Gemm.matmul(m, v).toFloatArray());
        assertArrayEquals(new long[] {2}, Gemm.matmul(m, v).shape());
        assertArrayEquals(new float[] {1, 2, 0}, Gemm.matmul(NDArray.of(new float[] {1, 2}), m).toFloatArray());
    }

    @Test
    void f64AndHalfAndIntegerMatmul() {
        NDArray a = NDArray.of(new double[] {1e-3, 2, 3, 4}, 2, 2);
        NDArray c = Gemm.matmul(a, a);
        assertEquals(DType.F64, c.dtype());
        assertArrayEquals(new double[] {1e-6 + 6, 2e-3 + 8, 3e-3 + 12, 6 + 16}, c.toDoubleArray(), 1e-15);
        NDArray h = NDArray.of(new float[] {1, 2, 3, 4}, 2, 2).to(DType.BF16);
        NDArray hc = Gemm.matmul(h, h);
        assertEquals(DType.BF16, hc.dtype());
        assertArrayEquals(new float[] {7, 10, 15, 22}, hc.toFloatArray());
        NDArray big = NDArray.of(new long[] {1L << 40, 1, 0, 1}, 2, 2);
        NDArray bc = Gemm.matmul(big, big);
        assertEquals(DType.I64, bc.dtype());
        assertArrayEquals(new long[] {0, (1L << 40) + 1, 0, 1}, bc.toLongArray(),
                "exact 64-bit arithmetic: 2^80 wraps to 0 like the dtype");
    }

    @Test
    void linearOnF64AndOneDimensionalInput() {
        NDArray x = NDArray.of(new double[] {1, 2});
        NDArray w = NDArray.of(new double[] {1, 1, 2, -1, 0, 3}, 3, 2);
        NDArray b = NDArray.of(new double[] {0.5, 0, -1});
        NDArray y = Gemm.linear(x, w, b);
        assertArrayEquals(new long[] {3}, y.shape());
        assertArrayEquals(new double[] {3.5, 0, 5}, y.toDoubleArray());
    }

    /**
     * OpenBLAS runs on the calling thread alone, judged by CPU time rather than by what it reports: over a few large
     * GEMMs, the CPU time the process spends outside the calling thread (where OpenBLAS's own threads would show,
     * besides JIT and GC) stays well under the calling thread's.
     */
    @Test
    void openBlasComputesOnTheCallingThreadOnly() {
        var bean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        int n = 768;
        NDArray a = NDArray.full(DType.F32, 0.5, n, n), b = NDArray.full(DType.F32, 0.25, n, n);
        Gemm.matmul(a, b);   // load OpenBLAS and compile the path
        long thread0 = bean.getCurrentThreadCpuTime(), process0 = os.getProcessCpuTime();
        for (int i = 0; i < 6; i++) Gemm.matmul(a, b);
        long thread = bean.getCurrentThreadCpuTime() - thread0, elsewhere = os.getProcessCpuTime() - process0 - thread;
        assertEquals(1, Gemm.threads());
        assertTrue(elsewhere < thread / 2, "CPU time outside the calling thread " + elsewhere / 1e6 + " ms vs on it " + thread / 1e6 + " ms");
    }

    @Test
    void threadCountCanBeChangedAndRead() {
        int before = Gemm.threads();
        try {
            Gemm.setThreads(1);
            assertEquals(1, Gemm.threads());
        } finally {
            Gemm.setThreads(before);
        }
        assertThrows(IllegalArgumentException.class, () -> Gemm.setThreads(0));
        assertTrue(Gemm.backend().startsWith("OpenBLAS"), Gemm.backend());
    }

    @Test
    void aMissingLibraryIsAClearError() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> OpenBlas.bind(Path.of("/nonexistent/libopenblas.so")));
        assertEquals("OpenBLAS library file not found: /nonexistent/libopenblas.so", e.getMessage());
    }

    @Test
    void matmulWithoutTheLibraryFailsWithAMessageNamingIt() throws Exception {
        ChildJvm.Result child = ChildJvm.run(MissingBlasMain.class, "--enable-native-access=ALL-UNNAMED",
                "-Dkiln.openblas.library=/nonexistent/libopenblas.so");
        assertEquals(0, child.exitCode(), child.output());
        assertEquals("OpenBLAS library file not found: /nonexistent/libopenblas.so\nstill usable: 8.0", child.output());
    }
}
