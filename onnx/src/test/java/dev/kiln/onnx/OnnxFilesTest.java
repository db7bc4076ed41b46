package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Graph;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;
import dev.kiln.onnx.ExternalDataOptions.Mode;
import dev.kiln.onnx.proto.OnnxProtos.GraphProto;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.onnx.proto.OnnxProtos.StringStringEntryProto;
import dev.kiln.onnx.proto.OnnxProtos.TensorProto;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static dev.kiln.onnx.ExternalDataTest.bytes;
import static dev.kiln.onnx.ExternalDataTest.symlink;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Saving and loading model files with external data: which tensors move, the layout of the data file,
 * round trips, the ONNX checker on the saved files, and every way a save could write where it must not.
 */
class OnnxFilesTest {

    @TempDir
    Path root;
    Path dir, outside, secret, file;

    @BeforeEach
    void layout() throws IOException {
        dir = Files.createDirectory(root.resolve("model"));
        outside = Files.createDirectory(root.resolve("outside"));
        secret = Files.write(outside.resolve("secret.bin"), bytes(64, 99));
        file = dir.resolve("model.onnx");
    }

    /**
     * relu(linear(x, w, b) @ c): a 16 KiB weight, a 512-byte bias and a 2 KiB constant (a Constant
     * node's tensor attribute), plus the small int64 tensors the exporter adds.
     */
    static ModelProto model() {
        Graph g = new Graph("external");
        Value x = g.addInput("x", TensorType.of(DType.F32, Dim.sym("N"), Dim.of(32)));
        Value w = g.addWeight("fc.weight", TensorType.of(DType.F32, 128, 32));
        Value b = g.addWeight("fc.bias", TensorType.of(DType.F32, 128));
        Builder bld = Builder.atEnd(g.body());
        Value c = bld.constant(Attribute.Tensor.fromDoubles(DType.F32, new long[] {128, 4}, Nd.random(3, 128, 4).values()));
        bld.ret(bld.op("relu", bld.op("matmul", bld.op("linear", x, w, b), c)));
        return OnnxExporter.export(g, Map.of("fc.weight", Nd.random(1, 128, 32).bytes(), "fc.bias", Nd.random(2, 128).bytes()),
                ExportOptions.defaults());
    }

    // ---------------------------------------------------------------- saving and loading

    @Test
    void alwaysMovesTensorsOverTheThresholdIntoOneAlignedDataFile() throws IOException {
        ModelProto m = model();
        OnnxFiles.save(m, file, ExternalDataOptions.always(1024));
        assertEquals(Set.of("model.onnx", "model.onnx.data"), names(dir), "no temporary files are left");

        ModelProto saved = OnnxFiles.load(file);
        TensorProto w = saved.getGraph().getInitializer(0), bias = saved.getGraph().getInitializer(1);
        TensorProto c = constantTensor(saved.getGraph());
        assertTrue(ExternalData.isExternal(w) && ExternalData.isExternal(c), "the weight and the constant go external");
        assertFalse(ExternalData.isExternal(bias) || !bias.hasRawData(), "the 512-byte bias stays inline");
        assertEquals(List.of("location=model.onnx.data", "offset=0", "length=16384"), entries(w));
        assertEquals(List.of("location=model.onnx.data", "offset=16384", "length=2048"), entries(c));
        assertEquals(16384 + 2048, Files.size(dir.resolve("model.onnx.data")));
        assertTrue(Files.size(file) < 2048, "the model file keeps only the small tensors: " + Files.size(file) + " bytes");

        OnnxChecker.check(file);
        assertEquals(m, OnnxFiles.inlineExternalData(saved, dir), "inlining restores the exported model exactly");
    }

    @Test
    void offsetsFollowTheAlignmentAndTheCallersFileName() throws IOException {
        ModelProto m = model();
        OnnxFiles.save(m, file, ExternalDataOptions.always(100).withLocation("weights.bin").withAlignment(1024));
        assertEquals(Set.of("model.onnx", "weights.bin"), names(dir));
        ModelProto saved = OnnxFiles.load(file);
        List<String> offsets = new ArrayList<>();
        ModelTensors.map(saved, t -> {
            if (ExternalData.isExternal(t)) {
                assertEquals("location=weights.bin", entries(t).get(0));
                offsets.add(entries(t).get(1));
            }
            return t;
        });
        assertEquals(List.of("offset=0", "offset=16384", "offset=17408"), offsets, "weight 16384 B, bias 512 B padded to 1024, constant");
        OnnxChecker.check(file);
        assertEquals(m, OnnxFiles.inlineExternalData(saved, dir));
    }

    @Test
    void autoKeepsAModelUnderTheLimitInOneFile() throws IOException {
        ModelProto m = model();
        OnnxFiles.save(m, file, ExternalDataOptions.defaults());
        assertEquals(Set.of("model.onnx"), names(dir));
        assertArrayEquals(m.toByteArray(), Files.readAllBytes(file));
        assertEquals(m, OnnxFiles.load(file));
    }

    @Test
    void autoMovesTensorsWhenTheModelWouldExceedTheLimit() {
        ModelProto m = model();
        OnnxFiles.save(m, file, ExternalDataOptions.defaults(), 16 * 1024);
        assertEquals(Set.of("model.onnx", "model.onnx.data"), names(dir));
        OnnxChecker.check(file);
        assertEquals(m, OnnxFiles.inlineExternalData(OnnxFiles.load(file), dir));
    }

    @Test
    void tooLargeAModelIsAnErrorAndLeavesNoFiles() {
        OnnxExportException never = assertThrows(OnnxExportException.class,
                () -> OnnxFiles.save(model(), file, ExternalDataOptions.never(), 4096));
        assertTrue(never.getMessage().contains("over the 4096-byte protobuf limit; save with ExternalDataOptions.defaults()"), never.getMessage());
        // With tensors moved, the small ones left inline still exceed a 1 KiB limit: the written data file is removed.
        OnnxExportException still = assertThrows(OnnxExportException.class,
                () -> OnnxFiles.save(model(), file, ExternalDataOptions.always(4096), 1024));
        assertTrue(still.getMessage().contains("even with tensors of at least 4096 bytes in external data; lower the size threshold"),
                still.getMessage());
        assertEquals(Set.of(), names(dir));
    }

    @Test
    void sizesOver2GiBAreKnownWhereProtobufsIntOverflows() throws IOException {
        // Sparse file, mapped but never touched: the tensors' bytes cost no memory.
        Path sparse = root.resolve("sparse.bin");
        try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) { f.setLength(800_000_000); }
        MappedByteBuffer buf;
        try (FileChannel ch = FileChannel.open(sparse)) { buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, 800_000_000); }
        ModelProto small = threeTensors(UnsafeByteOperations.unsafeWrap(buf.slice(0, 700_000_000)));
        ModelProto large = threeTensors(UnsafeByteOperations.unsafeWrap(buf));
        assertTrue(small.getSerializedSize() > 2_100_000_000);
        assertEquals(small.getSerializedSize(), OnnxFiles.serializedSize(small));
        long atLeast = OnnxFiles.serializedSize(large), exact = small.getSerializedSize() + 300_000_000L;   // three tensors 100 MB larger
        assertTrue(atLeast > Integer.MAX_VALUE && atLeast <= exact && atLeast > exact - 100, atLeast + " for " + exact);

        OnnxExportException e = assertThrows(OnnxExportException.class, () -> OnnxFiles.save(large, file, ExternalDataOptions.never()));
        assertTrue(e.getMessage().contains("it is at least " + atLeast + " bytes, over the 2147483647-byte protobuf limit"),
                e.getMessage());
        assertEquals(Set.of(), names(dir));
    }

    private static ModelProto threeTensors(ByteString data) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("big");
        for (int i = 0; i < 3; i++) {
            g.addInitializer(TensorProto.newBuilder().setName("t" + i).setDataType(TensorProto.DataType.UINT8_VALUE)
                    .addDims(data.size()).setRawData(data));
        }
        return ModelProto.newBuilder().setIrVersion(8).setGraph(g).build();
    }

    @Test
    void existingFilesAreReplacedOnlyWhenAllowed() throws IOException {
        Path data = dir.resolve("model.onnx.data");
        Files.write(data, bytes(10, 1));
        OnnxExportException e = assertThrows(OnnxExportException.class, () -> OnnxFiles.save(model(), file, ExternalDataOptions.always(1024)));
        assertEquals("cannot save ONNX model: the external data file " + data.toAbsolutePath() + " already exists;"
                + " allow replacing it with ExternalDataOptions.withOverwrite(true)", e.getMessage());
        assertArrayEquals(bytes(10, 1), Files.readAllBytes(data));
        assertEquals(Set.of("model.onnx.data"), names(dir));

        OnnxFiles.save(model(), file, ExternalDataOptions.always(1024).withOverwrite(true));
        assertEquals(16384 + 2048, Files.size(data));
        OnnxExportException again = assertThrows(OnnxExportException.class, () -> OnnxFiles.save(model(), file, ExternalDataOptions.defaults()));
        assertTrue(again.getMessage().contains("the model file " + file.toAbsolutePath() + " already exists"), again.getMessage());
        OnnxFiles.save(model(), file, ExternalDataOptions.defaults().withOverwrite(true));
        assertEquals(model(), OnnxFiles.load(file));
        assertEquals(Set.of("model.onnx", "model.onnx.data"), names(dir));
    }

    @Test
    void modelsThatAlreadyReferToExternalDataAreNotSavedElsewhere() {
        OnnxFiles.save(model(), file, ExternalDataOptions.always(1024));
        ModelProto external = OnnxFiles.load(file);
        Path elsewhere = outside.resolve("copy.onnx");
        OnnxExportException e = assertThrows(OnnxExportException.class, () -> OnnxFiles.save(external, elsewhere, ExternalDataOptions.defaults()));
        assertEquals("tensor 'fc.weight' refers to external data that is not in memory; inline it first with"
                + " OnnxFiles.inlineExternalData(model, modelDirectory)", e.getMessage());
        OnnxFiles.save(OnnxFiles.inlineExternalData(external, dir), elsewhere, ExternalDataOptions.defaults());
        assertEquals(model(), OnnxFiles.load(elsewhere));
    }

    @Test
    void loadingReportsMissingAndMalformedFiles() throws IOException {
        OnnxImportException missing = assertThrows(OnnxImportException.class, () -> OnnxFiles.load(dir.resolve("none.onnx")));
        assertEquals("ONNX model file " + dir.resolve("none.onnx") + " does not exist", missing.getMessage());
        Path junk = Files.write(dir.resolve("junk.onnx"), new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
        OnnxImportException bad = assertThrows(OnnxImportException.class, () -> OnnxFiles.load(junk));
        assertTrue(bad.getMessage().startsWith("ONNX model file " + junk + " is not a valid ModelProto: "), bad.getMessage());
    }

    @Test
    void inliningChecksEveryExternalTensorLikeTheReader() {
        OnnxFiles.save(model(), file, ExternalDataOptions.always(1024));
        ModelProto m = OnnxFiles.load(file);
        TensorProto w = m.getGraph().getInitializer(0).toBuilder().setExternalData(0,
                StringStringEntryProto.newBuilder().setKey("location").setValue("../outside/secret.bin")).build();
        ModelProto hostile = m.toBuilder().setGraph(m.getGraph().toBuilder().setInitializer(0, w)).build();
        OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxFiles.inlineExternalData(hostile, dir));
        assertTrue(e.getMessage().startsWith("external data of tensor 'fc.weight' at location '../outside/secret.bin': the location contains a '..'"),
                e.getMessage());
    }

    // ---------------------------------------------------------------- attacks on the writer

    @Test
    void dataFileNamesWithDirectoriesOrTraversalAreRejected() {
        for (String name : List.of("../x", "../outside/secret.bin", secret.toString(), "sub/x", "a\\b", "C:x", "x\0y", "..", ".", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExternalDataOptions.always(1).withLocation(name));
            assertTrue(e.getMessage().startsWith("external data location '" + name.replace("\0", "\\0") + "' is not allowed: "), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ExternalDataOptions.always(1).withLocation("../x")).getMessage()
                .endsWith("the location contains a '..' segment; it must stay inside the model's directory"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ExternalDataOptions.always(1).withLocation("/tmp/x")).getMessage()
                .endsWith("the location is an absolute path; it must be relative to the model's directory"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ExternalDataOptions.always(1).withLocation("sub/x")).getMessage()
                .endsWith("it must be a plain file name, without directories"));
        IllegalArgumentException own = assertThrows(IllegalArgumentException.class,
                () -> OnnxFiles.save(model(), file, ExternalDataOptions.always(1).withLocation("model.onnx")));
        assertEquals("external data location 'model.onnx' is the model file's own name; choose another", own.getMessage());
        assertEquals(Set.of(), names(dir));
        assertEquals(Set.of("secret.bin"), names(outside));
    }

    @Test
    void aDataFileThatIsALinkToAFileOutsideIsNeverFollowedNorReplaced() throws IOException {
        Path link = symlink(dir.resolve("model.onnx.data"), secret);
        for (boolean overwrite : new boolean[] {false, true}) {
            OnnxExportException e = assertThrows(OnnxExportException.class,
                    () -> OnnxFiles.save(model(), file, ExternalDataOptions.always(1024).withOverwrite(overwrite)));
            assertEquals("cannot save ONNX model: the external data file " + link.toAbsolutePath() + " is a symbolic link; Kiln never"
                    + " writes through or replaces links, even with overwrite allowed (remove the link first)", e.getMessage());
            assertArrayEquals(bytes(64, 99), Files.readAllBytes(secret), "the file outside is unchanged");
            assertTrue(Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(secret), "the link is left alone");
            assertEquals(Set.of("model.onnx.data"), names(dir), "no model file and no temporary files");
        }
    }

    @Test
    void aModelFileThatIsALinkIsNeverWrittenThrough() throws IOException {
        symlink(file, secret);
        OnnxExportException e = assertThrows(OnnxExportException.class,
                () -> OnnxFiles.save(model(), file, ExternalDataOptions.defaults().withOverwrite(true)));
        assertTrue(e.getMessage().contains("the model file " + file.toAbsolutePath() + " is a symbolic link"), e.getMessage());
        assertArrayEquals(bytes(64, 99), Files.readAllBytes(secret));
        assertTrue(Files.isSymbolicLink(file));
    }

    @Test
    void aDirectoryInTheWayIsReported() throws IOException {
        Files.createDirectory(dir.resolve("model.onnx.data"));
        OnnxExportException e = assertThrows(OnnxExportException.class,
                () -> OnnxFiles.save(model(), file, ExternalDataOptions.always(1024).withOverwrite(true)));
        assertTrue(e.getMessage().endsWith("model.onnx.data exists and is not a regular file"), e.getMessage());
        OnnxExportException noDir = assertThrows(OnnxExportException.class,
                () -> OnnxFiles.save(model(), root.resolve("none/m.onnx"), ExternalDataOptions.defaults()));
        assertEquals("cannot save ONNX model: the directory " + root.resolve("none") + " of the model file " + root.resolve("none/m.onnx")
                + " does not exist", noDir.getMessage());
    }

    @Test
    void aModelDirectoryThatIsALinkIsNeverWrittenInto() throws IOException {
        Path linked = symlink(root.resolve("linked"), outside);
        OnnxExportException e = assertThrows(OnnxExportException.class,
                () -> OnnxFiles.save(model(), linked.resolve("model.onnx"), ExternalDataOptions.always(1024).withOverwrite(true)));
        assertEquals("cannot save ONNX model: the directory " + linked + " of the model file " + linked.resolve("model.onnx")
                + " is a symbolic link; Kiln writes only into real directories (pass the directory's real path, Path.toRealPath(),"
                + " if the link is meant)", e.getMessage());
        assertEquals(Set.of("secret.bin"), names(outside));
    }

    @Test
    void linksPlantedAtTheTemporaryNamesAreSkippedNotFollowed() throws IOException {
        Path modelTemp = symlink(dir.resolve(".model.onnx.kiln-tmp"), secret);
        Path dataTemp = symlink(dir.resolve(".model.onnx.data.kiln-tmp"), secret);
        OnnxFiles.save(model(), file, ExternalDataOptions.always(1024));
        assertEquals(model(), OnnxFiles.inlineExternalData(OnnxFiles.load(file), dir));
        assertArrayEquals(bytes(64, 99), Files.readAllBytes(secret), "the file behind the links is unchanged");
        assertTrue(Files.isSymbolicLink(modelTemp) && Files.isSymbolicLink(dataTemp), "the planted links are left alone");
        assertEquals(Set.of(".model.onnx.data.kiln-tmp", ".model.onnx.kiln-tmp", "model.onnx", "model.onnx.data"), names(dir));
    }

    @Test
    void aSaveThatFailsAfterWritingDataLeavesTheOldFilesWhole() throws IOException {
        OnnxFiles.save(model(), file, ExternalDataOptions.always(1024));
        byte[] oldModel = Files.readAllBytes(file), oldData = Files.readAllBytes(dir.resolve("model.onnx.data"));
        // The data file is written, then the model is still over the (test) limit: the save fails before any rename.
        OnnxExportException e = assertThrows(OnnxExportException.class,
                () -> OnnxFiles.save(model(), file, ExternalDataOptions.always(1024).withOverwrite(true), 100));
        assertTrue(e.getMessage().contains("over the 100-byte protobuf limit"), e.getMessage());
        assertArrayEquals(oldModel, Files.readAllBytes(file));
        assertArrayEquals(oldData, Files.readAllBytes(dir.resolve("model.onnx.data")));
        assertEquals(Set.of("model.onnx", "model.onnx.data"), names(dir), "no temporary file is left");
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> ExternalDataOptions.always(-1));
        IllegalArgumentException align = assertThrows(IllegalArgumentException.class, () -> ExternalDataOptions.defaults().withAlignment(3000));
        assertEquals("alignment must be a power of two from 1 to 1048576, got 3000", align.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ExternalDataOptions.defaults().withAlignment(1 << 21));
        assertThrows(NullPointerException.class, () -> ExternalDataOptions.defaults().withMode(null));
        ExternalDataOptions d = ExternalDataOptions.defaults();
        assertEquals(new ExternalDataOptions(Mode.AUTO, 1024, null, 4096, false), d);
        assertEquals(Mode.NEVER, ExternalDataOptions.never().mode());
    }

    @Test
    void writeFailuresAreUncheckedIoErrorsAndLeaveNoFiles() throws IOException {
        // A read-only directory: creating the temporary file fails.
        assertTrue(dir.toFile().setWritable(false));
        try {
            assumeFalse(Files.isWritable(dir), "permissions do not stop this user (root) from writing");
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> OnnxFiles.save(model(), file, ExternalDataOptions.always(1024)));
            assertTrue(e.getMessage().startsWith("cannot save ONNX model to " + file), e.getMessage());
        } finally {
            assertTrue(dir.toFile().setWritable(true));
        }
        assertEquals(Set.of(), names(dir));
    }

    // ---------------------------------------------------------------- helpers

    private static TensorProto constantTensor(GraphProto g) {
        return g.getNodeList().stream().filter(n -> n.getOpType().equals("Constant")).map(n -> n.getAttribute(0).getT())
                .filter(t -> t.getDimsCount() == 2).findFirst().orElseThrow();
    }

    private static List<String> entries(TensorProto t) {
        return t.getExternalDataList().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    static Set<String> names(Path d) {
        try (Stream<Path> s = Files.list(d)) {
            Set<String> out = new TreeSet<>();
            s.forEach(p -> out.add(p.getFileName().toString()));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
