package dev.kiln.onnx;

import dev.kiln.ir.KilnException;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.NodeProto;
import dev.kiln.onnx.proto.OnnxProtos.ValueInfoProto;
import dev.kiln.runtime.Allocations;
import dev.kiln.runtime.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.kiln.onnx.HostileModels.DOUBLE;
import static dev.kiln.onnx.HostileModels.FLOAT;
import static dev.kiln.onnx.HostileModels.INT64;
import static dev.kiln.onnx.HostileModels.declaredOnly;
import static dev.kiln.onnx.HostileModels.info;
import static dev.kiln.onnx.HostileModels.integer;
import static dev.kiln.onnx.HostileModels.ints;
import static dev.kiln.onnx.HostileModels.longs;
import static dev.kiln.onnx.HostileModels.model;
import static dev.kiln.onnx.HostileModels.node;
import static dev.kiln.onnx.HostileModels.oneNode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile ONNX models (issue 13): every bad input is an {@link OnnxImportException} (a {@link KilnException})
 * naming the node or tensor, in bounded time and memory. Models are built here with the protobuf builders.
 */
class HostileModelTest {

    private static OnnxImportException importError(ModelProto m) {
        return assertThrows(OnnxImportException.class, () -> OnnxImporter.fromProto(m, Path.of(".")));
    }

    private static void assertMessage(String expectedStart, Throwable e) {
        assertTrue(e.getMessage().startsWith(expectedStart), "message: " + e.getMessage());
    }

    // ---- checked arithmetic on sizes read from the file

    @Test
    void initializerDimsWhoseProductOverflowsNameTheTensor() {
        ModelProto m = oneNode(17, node("Relu", "r", List.of("w"), List.of("y")), List.of(),
                declaredOnly("w", FLOAT, 1L << 62, 32));
        assertEquals("tensor 'w': shape [4611686018427387904, 32] has more elements than a 64-bit count holds", importError(m).getMessage());
        ModelProto wraps = oneNode(17, node("Relu", "r", List.of("w"), List.of("y")), List.of(),
                declaredOnly("w", FLOAT, 4, (1L << 62) + 1));
        assertEquals("tensor 'w': shape [4, 4611686018427387905] has more elements than a 64-bit count holds", importError(wraps).getMessage());
    }

    @Test
    void declaredSizeWithoutDataIsRefusedBeforeAllocating() {
        ModelProto m = oneNode(17, node("Relu", "r", List.of("w"), List.of("y")), List.of(), declaredOnly("w", FLOAT, 1L << 31));
        assertEquals("tensor 'w': float_data has 0 elements but the dims give 2147483648", importError(m).getMessage());
    }

    /** The 74-byte file: an f32 [2^28] initializer with no data made the importer allocate 1 GiB first. */
    @Test
    void tinyFileDeclaringAHugeInitializerAllocatesAlmostNothing(@TempDir Path dir) throws Exception {
        GraphProto g = GraphProto.newBuilder().setName("g").addInitializer(declaredOnly("w", FLOAT, 1L << 28))
                .addOutput(ValueInfoProto.newBuilder().setName("w")).build();
        Path file = dir.resolve("huge.onnx");
        Files.write(file, model(17, g).toByteArray());
        assertTrue(Files.size(file) < 80, Files.size(file) + " bytes");
        Path f64 = dir.resolve("huge64.onnx");
        Files.write(f64, model(17, g.toBuilder().setInitializer(0, declaredOnly("w", DOUBLE, 268435455)).build()).toByteArray());

        assertThrows(OnnxImportException.class, () -> OnnxImporter.load(file)); // warm-up: class loading, protobuf init
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        for (Path p : List.of(file, f64)) {
            long heap0 = threads.getThreadAllocatedBytes(tid), native0 = Allocations.bytes();
            OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImporter.load(p));
            long heap = threads.getThreadAllocatedBytes(tid) - heap0, offHeap = Allocations.bytes() - native0;
            assertMessage("tensor 'w': ", e);
            assertTrue(e.getMessage().contains("elements but the dims give"), e.getMessage());
            assertTrue(heap < 16L << 20, p.getFileName() + ": import allocated " + heap + " heap bytes");
            assertEquals(0, offHeap, p.getFileName() + ": import allocated " + offHeap + " off-heap bytes");
        }
    }

    // ---- converters on inputs they did not foresee: errors naming the node

    @Test
    void unsqueezeWithoutAxesNamesTheAttribute() {
        ModelProto m = oneNode(11, node("Unsqueeze", "u", List.of("x"), List.of("y")), List.of(info("x", FLOAT, 3)));
        assertEquals("node 0 'u' (Unsqueeze): attribute 'axes' is required but missing", importError(m).getMessage());
    }

    @Test
    void oldReshapeWithoutShapeNamesTheAttribute() {
        ModelProto m = oneNode(4, node("Reshape", "r", List.of("x"), List.of("y")), List.of(info("x", FLOAT, 3)));
        assertEquals("opset 4 is not supported (Kiln imports 6 and up)", assertThrows(ImportUnsupportedException.class,
                () -> OnnxImporter.fromProto(m, Path.of("."))).getMessage());
        // opset 6+ reads the shape input; one that is missing is named
        ModelProto noShape = oneNode(13, node("Reshape", "r", List.of("x"), List.of("y")), List.of(info("x", FLOAT, 3)));
        assertEquals("node 0 'r' (Reshape): input 1 is required but missing", importError(noShape).getMessage());
    }

    @Test
    void convAndGlobalPoolOnLowRankInputsNameTheLayout() {
        ModelProto conv = oneNode(17, node("Conv", "c", List.of("x", "w"), List.of("y")), List.of(info("x", FLOAT, 3), info("w", FLOAT, 1)));
        assertEquals("node 0 'c' (Conv): input 0 must be [N, C, spatial...] (rank 3 or more), got f32[3]", importError(conv).getMessage());
        ModelProto pool = oneNode(17, node("GlobalAveragePool", "p", List.of("x"), List.of("y")), List.of(info("x", FLOAT, 2, 3)));
        assertEquals("node 0 'p' (GlobalAveragePool): input 0 must be [N, C, spatial...] (rank 3 or more), got f32[2, 3]",
                importError(pool).getMessage());
        ModelProto maxPool = oneNode(17, node("MaxPool", "p", List.of("x"), List.of("y"), ints("kernel_shape", 2)), List.of(info("x", FLOAT, 2)));
        assertEquals("node 0 'p' (MaxPool): input 0 must be [N, C, spatial...] (rank 3 or more), got f32[2]", importError(maxPool).getMessage());
        ModelProto norm = oneNode(17, node("InstanceNormalization", "n", List.of("x", "s", "b"), List.of("y")),
                List.of(info("x", FLOAT, 2), info("s", FLOAT, 2), info("b", FLOAT, 2)));
        assertEquals("node 0 'n' (InstanceNormalization): input 0 must be [N, C, spatial...] (rank 3 or more), got f32[2]",
                importError(norm).getMessage());
    }

    @Test
    void conv3dWithAMismatchedWeightOrKernelNamesIt() {
        ModelProto weight = oneNode(17, node("Conv", "c", List.of("x", "w"), List.of("y")),
                List.of(info("x", FLOAT, 1, 1, 4, 4, 4), info("w", FLOAT, 1, 1, 2)));
        assertEquals("node 0 'c' (Conv): Conv weight must have X's rank 5 ([M, C/group, kernel...]), got f32[1, 1, 2]",
                importError(weight).getMessage());
        ModelProto kernel = oneNode(17, node("Conv", "c", List.of("x", "w"), List.of("y"), ints("kernel_shape", 2, 2)),
                List.of(info("x", FLOAT, 1, 1, 4, 4, 4), info("w", FLOAT, 1, 1, 2, 2, 2)));
        assertEquals("node 0 'c' (Conv): kernel_shape [2, 2] must have 3 entries (one per spatial dim)", importError(kernel).getMessage());
        ModelProto strides = oneNode(17, node("Conv", "c", List.of("x", "w"), List.of("y"), ints("strides", 1, 1)),
                List.of(info("x", FLOAT, 1, 1, 4, 4, 4), info("w", FLOAT, 1, 1, 2, 2, 2)));
        assertEquals("node 0 'c' (Conv): strides/dilations must have 3 entries", importError(strides).getMessage());
        ModelProto deep = oneNode(17, node("Conv", "c", List.of("x", "w"), List.of("y")),
                List.of(info("x", FLOAT, 1, 1, 100000, 1, 1), info("w", FLOAT, 1, 1, 100000, 1, 1)));
        assertMessage("node 0 'c' (Conv): a 3-D Conv kernel depth of 100000 (Kiln builds one op per element here, at most 4096)",
                importError(deep));
    }

    @Test
    void splitAndGatherOnScalarsOrWithTooManyOutputsNameTheNode() {
        ModelProto split = oneNode(17, node("Split", "s", List.of("x"), List.of("y")), List.of(info("x", FLOAT)));
        assertEquals("node 0 's' (Split): axis 0 is out of range for rank 0", importError(split).getMessage());
        ModelProto gather = oneNode(17, node("Gather", "g", List.of("x", "i"), List.of("y")), List.of(info("x", FLOAT), info("i", INT64)));
        assertEquals("node 0 'g' (Gather): axis 0 is out of range for rank 0", importError(gather).getMessage());
        ModelProto outputs = oneNode(18, node("Split", "s", List.of("x"), List.of("y"), integer("num_outputs", 1L << 31)),
                List.of(info("x", FLOAT, 4)));
        assertEquals("node 0 's' (Split): num_outputs is 2147483648 but the node has 1 outputs", importError(outputs).getMessage());
        ModelProto sizes = oneNode(17, node("Split", "s", List.of("x", "sp"), List.of("y", "z")), List.of(info("x", FLOAT, 4)),
                longs("sp", 4, 0, 0));
        assertEquals("node 0 's' (Split): split gives 3 sizes but the node has 2 outputs", importError(sizes).getMessage());
        ModelProto slice = oneNode(17, node("Slice", "s", List.of("x", "st", "en"), List.of("y")), List.of(info("x", FLOAT, 4)),
                longs("st", 0, 0), longs("en", 1, 1));
        assertEquals("node 0 's' (Slice): axis 1 is out of range for rank 1", importError(slice).getMessage());
    }

    // ---- budgets: ops that create data from sizes

    @Test
    void constantOfShapeExpandAndPadBeyondTheLimitAreRefusedAtImport() {
        ModelProto cos = oneNode(17, node("ConstantOfShape", "c", List.of("s"), List.of("y")), List.of(), longs("s", 1L << 20, 1L << 20));
        assertMessage("node 0 'c' (ConstantOfShape): the result f32 [1048576, 1048576] needs 4398046511104 bytes (4.0 TiB), more than the tensor size limit of",
                importError(cos));
        ModelProto expand = oneNode(17, node("Expand", "e", List.of("x", "s"), List.of("y")), List.of(info("x", FLOAT, 1)), longs("s", 1L << 40));
        assertMessage("node 0 'e' (Expand): ", importError(expand));
        ModelProto pad = oneNode(17, node("Pad", "p", List.of("x", "pads"), List.of("y")), List.of(info("x", FLOAT, 2, 4)),
                longs("pads", 0, 0, 0, 1L << 40));
        OnnxImportException e = importError(pad);
        assertMessage("node 0 'p' (Pad): result f32 [2, 1099511627780] needs 8796093022240 bytes (8.0 TiB), more than the tensor size limit of", e);
        assertTrue(e.getMessage().endsWith("(ImportOptions.withMaxTensorBytes raises it)"), e.getMessage());
    }

    @Test
    void theImportLimitIsAnOption() {
        ModelProto cos = oneNode(17, node("ConstantOfShape", "c", List.of("s"), List.of("y")), List.of(), longs("s", 1024, 1024));
        ImportOptions small = ImportOptions.defaults().withMaxTensorBytes(1 << 20);
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxImporter.fromProto(cos, Path.of("."), small));
        assertEquals("node 0 'c' (ConstantOfShape): the result f32 [1024, 1024] needs 4194304 bytes (4.0 MiB), more than the tensor size"
                + " limit of 1048576 bytes (1.0 MiB) (ImportOptions.withMaxTensorBytes raises it)", e.getMessage());
        ImportedModel ok = OnnxImporter.fromProto(cos, Path.of("."), ImportOptions.defaults().withMaxTensorBytes(4 << 20));
        assertArrayEquals(new long[] {1024, 1024}, ok.interpret(List.of()).get(0).shape());
        ModelProto init = oneNode(17, node("Relu", "r", List.of("w"), List.of("y")), List.of(), longs("w", new long[200_000]));
        assertMessage("tensor 'w': i64 [200000] needs 1600000 bytes (1.5 MiB), more than the tensor size limit of 1048576 bytes",
                assertThrows(OnnxImportException.class, () -> OnnxImporter.fromProto(init, Path.of("."), small)));
    }

    // ---- linear time, bounded depth

    /** Each branch is converted once: time grows linearly with the nesting depth (it doubled per level before). */
    @Test
    void nestedIfsImportInLinearTime() {
        OnnxImporter.fromProto(HostileModels.nestedIfs(10), Path.of(".")); // warm-up
        StringBuilder times = new StringBuilder();
        for (int depth : new int[] {10, 20, 40, 80}) {
            long t0 = System.nanoTime();
            ImportedModel m = OnnxImporter.fromProto(HostileModels.nestedIfs(depth), Path.of("."));
            double ms = (System.nanoTime() - t0) / 1e6;
            times.append(String.format(" N=%d: %.1f ms;", depth, ms));
            assertTrue(ms < 5_000, "N=" + depth + " took " + ms + " ms");
            assertEquals(1, m.graph().body().ops().stream().filter(op -> op.name().equals("if")).count());
        }
        System.out.println("nested If import times:" + times);
        NDArray x = NDArray.of(new float[] {-1, 2, -3, 4});
        ImportedModel three = OnnxImporter.fromProto(HostileModels.nestedIfs(3), Path.of("."));
        NDArray yes = NDArray.full(dev.kiln.ir.DType.BOOL, 1), no = NDArray.full(dev.kiln.ir.DType.BOOL, 0);
        assertArrayEquals(new float[] {0, 2, 0, 4}, three.interpret(List.of(yes, x)).get(0).toFloatArray());
        assertArrayEquals(new float[] {1, -2, 3, -4}, three.interpret(List.of(no, x)).get(0).toFloatArray());
    }

    @Test
    void subgraphsNestedTooDeepAreRefusedUpFront() {
        ImportUnsupportedException e = assertThrows(ImportUnsupportedException.class,
                () -> OnnxImporter.fromProto(HostileModels.nestedIfs(OnnxImporter.MAX_SUBGRAPH_DEPTH + 2), Path.of(".")));
        assertMessage("subgraphs nested more than " + OnnxImporter.MAX_SUBGRAPH_DEPTH + " levels deep", e);
    }

    /** 10^5 constant-foldable nodes feeding a Reshape's shape overflowed the recursive constant evaluation. */
    @Test
    void longConstantChainFoldsWithoutDeepRecursion() {
        int length = 100_000;
        GraphProto.Builder g = GraphProto.newBuilder().setName("g").addInput(info("x", FLOAT, 4))
                .addInitializer(longs("c0", 2, 2)).addInitializer(longs("zero", 0, 0));
        for (int i = 0; i < length; i++) {
            g.addNode(NodeProto.newBuilder().setOpType("Add").addInput("c" + i).addInput("zero").addOutput("c" + (i + 1)));
        }
        g.addNode(node("Reshape", "r", List.of("x", "c" + length), List.of("y"))).addOutput(info("y", FLOAT, 2, 2));
        long t0 = System.nanoTime();
        ImportedModel m = OnnxImporter.fromProto(model(17, g.build()), Path.of("."));
        System.out.printf("1e5 constant chain into Reshape: imported in %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        NDArray y = m.interpret(List.of(NDArray.of(new float[] {1, 2, 3, 4}))).get(0);
        assertArrayEquals(new long[] {2, 2}, y.shape());
    }

    @Test
    void everyFailureIsAKilnException() {
        assertTrue(KilnException.class.isAssignableFrom(OnnxImportException.class));
        assertTrue(KilnException.class.isAssignableFrom(OnnxExportException.class));
        assertTrue(KilnException.class.isAssignableFrom(dev.kiln.onnx.netdef.NetDefException.class));
        assertTrue(KilnException.class.isAssignableFrom(ImportNeedsConstantException.class));
    }
}
