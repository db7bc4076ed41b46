package dev.kiln.codegen;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.passes.GraphTesting;
import dev.kiln.runtime.Allocations;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A warm run with caller-provided output buffers allocates nothing: no Java heap bytes (the JVM's per-thread
 * allocation counter) and no tensor memory ({@link Allocations}); a run without buffers allocates only its outputs.
 */
class ZeroAllocationTest {

    private static final String MLP = """
            graph @mlp(%x: f32[N, 64]) weights(@w1: f32[128, 64], @b1: f32[128], @w2: f32[10, 128], @b2: f32[10]) {
              %1 = linear(%x, @w1, @b1) : f32[N, 128]
              %2 = relu(%1) : f32[N, 128]
              %3 = linear(%2, @w2, @b2) : f32[N, 10]
              %4 = tanh(%3) : f32[N, 10]
              %5 = add(%4, %3) : f32[N, 10]
              return(%5)
            }
            """;

    private static long threadAllocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** LeNet-5 as O2 sees it: im2col convolutions with epilogues, max pooling, a flatten view and linear layers. */
    private static final String LENET = """
            graph @lenet(%x: f32[N, 1, 28, 28]) weights(@c1: f32[6, 1, 5, 5], @b1: f32[6], @c2: f32[16, 6, 5, 5], @b2: f32[16],
                                                      @f1: f32[120, 400], @g1: f32[120], @f2: f32[10, 120], @g2: f32[10]) {
              %0 = conv2d(%x, @c1, @b1) {padding = [2, 2]} : f32[N, 6, 28, 28]
              %1 = relu(%0) : f32[N, 6, 28, 28]
              %2 = max_pool2d(%1) {kernel_size = [2, 2], stride = [2, 2]} : f32[N, 6, 14, 14]
              %3 = conv2d(%2, @c2, @b2) : f32[N, 16, 10, 10]
              %4 = relu(%3) : f32[N, 16, 10, 10]
              %5 = max_pool2d(%4) {kernel_size = [2, 2], stride = [2, 2]} : f32[N, 16, 5, 5]
              %6 = flatten(%5) {start_dim = 1} : f32[N, 400]
              %7 = linear(%6, @f1, @g1) : f32[N, 120]
              %8 = relu(%7) : f32[N, 120]
              %9 = linear(%8, @f2, @g2) : f32[N, 10]
              return(%9)
            }
            """;

    @Test
    void warmRunsWithOutputBuffersAllocateNothing() {
        assertWarmRunsAllocateNothing(MLP, new long[] {1, 64}, new long[] {1, 10});
    }

    @Test
    void warmConvolutionRunsWithOutputBuffersAllocateNothing() {
        assertWarmRunsAllocateNothing(LENET, new long[] {1, 1, 28, 28}, new long[] {1, 10});
    }

    /**
     * LeNet over a batch on one thread: the convolutions with their pools computed directly (the Vector API's path;
     * im2col + GEMM slices each image).
     */
    @Test
    void warmBatchedConvolutionRunsOnOneThreadAllocateNothing() {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.kiln.runtime.kernels.VectorApi.enabled());
        int before = dev.kiln.runtime.kernels.Parallel.threads();
        dev.kiln.runtime.kernels.Parallel.setThreads(1);
        try {
            assertWarmRunsAllocateNothing(LENET, new long[] {4, 1, 28, 28}, new long[] {4, 10});
        } finally {
            dev.kiln.runtime.kernels.Parallel.setThreads(before);
        }
    }

    private static void assertWarmRunsAllocateNothing(String ir, long[] inputShape, long[] outputShape) {
        Graph g = IrParser.parse(ir);
        CompiledModel model = CompiledModel.compile(g, GraphTesting.randomWeights(g, 1, new Random(3)));
        List<NDArray> inputs = List.of(NDArray.full(DType.F32, 0.5, inputShape));
        List<NDArray> outputs = List.of(NDArray.zeros(DType.F32, outputShape));
        // Warm up until the JIT has compiled the generated code with escape analysis (C2 compiles in the
        // background, so how long that takes depends on the machine's load): rounds of 1000 measured runs.
        long heapPerRound = -1, tensors = -1;
        for (int round = 0; round < 60 && heapPerRound != 0; round++) {
            for (int i = 0; i < 5_000; i++) model.runInto(inputs, outputs);
            long tensorsBefore = Allocations.count();
            long before = threadAllocatedBytes();
            for (int i = 0; i < 1_000; i++) model.runInto(inputs, outputs);
            long after = threadAllocatedBytes();
            long probe = threadAllocatedBytes() - after; // what reading the counter itself allocates
            heapPerRound = Math.max(0, after - before - probe);
            tensors = Allocations.count() - tensorsBefore;
        }
        assertEquals(0, tensors, "tensor allocations in 1000 warm runs");
        assertEquals(0, heapPerRound, "Java heap bytes in 1000 warm runs");
    }

    @Test
    void runsWithoutBuffersAllocateOnlyTheOutputs() {
        Graph g = IrParser.parse(MLP);
        CompiledModel model = CompiledModel.compile(g, GraphTesting.randomWeights(g, 1, new Random(3)));
        List<NDArray> inputs = List.of(NDArray.full(DType.F32, 0.5, 4, 64));
        model.run(inputs);
        long before = Allocations.count();
        model.run(inputs);
        assertEquals(1, Allocations.count() - before);
    }

    /** {@code -Dkiln.dumpCode=DIR} (as {@code KILN_DUMP_CODE=DIR}) writes every class generated while it is set. */
    @Test
    void theDumpPropertyWritesEachGeneratedClass() throws Exception {
        Path dir = Files.createTempDirectory("kiln-dump-property");
        Graph g = IrParser.parse(MLP);
        CompiledModel model = CompiledModel.compile(g, GraphTesting.randomWeights(g, 1, new Random(3)));
        System.setProperty("kiln.dumpCode", dir.toString());
        try {
            model.run(List.of(NDArray.zeros(DType.F32, 3, 64)));
        } finally {
            System.clearProperty("kiln.dumpCode");
        }
        try (var files = Files.list(dir)) {
            List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
            assertEquals(2, names.size(), names.toString());
            assertTrue(names.get(0).endsWith(".class") && names.get(1).endsWith(".txt"), names.toString());
        }
    }

    @Test
    void dumpWritesTheClassAndAListing() throws Exception {
        Graph g = IrParser.parse(MLP);
        CompiledModel model = CompiledModel.compile(g, GraphTesting.randomWeights(g, 1, new Random(3)));
        Program p = (Program) model.lowered(List.of(NDArray.zeros(DType.F32, 2, 64)));
        Path dir = Files.createTempDirectory("kiln-dump");
        CodeDump.write(p, dir);
        String base = CodeDump.fileName(p);
        assertTrue(Files.size(dir.resolve(base + ".class")) > 0);
        String listing = Files.readString(dir.resolve(base + ".txt"));
        assertTrue(listing.contains("gemm 2x128x64"), listing);
        assertTrue(listing.contains("INVOKESTATIC dev/kiln/codegen/CpuKernels.sgemm"), listing);
    }
}
