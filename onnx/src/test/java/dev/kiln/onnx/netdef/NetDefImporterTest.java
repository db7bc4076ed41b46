package dev.kiln.onnx.netdef;

import com.google.protobuf.TextFormat;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.IrParser;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.TensorType;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NetDefs read back into Kiln IR: exported graphs, hand-written Caffe2 nets in each argument form. */
class NetDefImporterTest {

    static NetDef net(String text) {
        try {
            return TextFormat.parse(text, NetDef.class);
        } catch (TextFormat.ParseException e) {
            throw new AssertionError(e);
        }
    }

    static TensorType f32(Object... dims) {
        Dim[] d = new Dim[dims.length];
        for (int i = 0; i < dims.length; i++) d[i] = dims[i] instanceof String s ? Dim.sym(s) : Dim.of(((Number) dims[i]).longValue());
        return TensorType.of(DType.F32, d);
    }

    @Test
    void exportedGraphReadsBack() {
        NetDefModel m = NetDefExporter.export(IrParser.parse(NetDefExporterTest.SMALL), NetDefExporterTest.smallWeights());
        ImportedNet back = NetDefImporter.importNet(m, Map.of("x", f32("N", 4)));
        assertEquals("""
                graph @small(%x: f32[N, 4]) weights(@fc.weight: f32[3, 4], @fc.bias: f32[3], @shift: f32[3]) {
                  %h = linear(%x, @fc.weight, @fc.bias) : f32[N, 3]
                  %output_1 = relu(%h) : f32[N, 3]
                  %s = add(%output_1, @shift) : f32[N, 3]
                  %t = reshape(%s) {shape = [N, 3, 1]} : f32[N, 3, 1]
                  %output = softmax(%t) {axis = 1} : f32[N, 3, 1]
                  return(%output, %output_1)
                }
                """, IrPrinter.print(back.graph()));
        assertEquals(NetDefExporterTest.smallWeights(), back.weights());
    }

    /** A hand-written net in Caffe2's own conventions: in-place ops, legacy broadcasting, test-mode Dropout. */
    static final String CLASSIFIER = """
            name: "classifier"
            op { input: "data" input: "conv_w" input: "conv_b" output: "conv" type: "Conv"
                 arg { name: "kernel" i: 3 } arg { name: "pad_t" i: 0 } arg { name: "pad_l" i: 1 }
                 arg { name: "pad_b" i: 1 } arg { name: "pad_r" i: 1 } arg { name: "order" s: "NCHW" } }
            op { input: "conv" input: "bn_s" input: "bn_b" input: "bn_m" input: "bn_v" output: "conv" type: "SpatialBN"
                 arg { name: "is_test" i: 1 } arg { name: "epsilon" f: 0.001 } }
            op { input: "conv" output: "conv" type: "Relu" }
            op { input: "conv" input: "bias" output: "biased" type: "Add" arg { name: "broadcast" i: 1 } arg { name: "axis" i: 1 } }
            op { input: "biased" output: "pool" type: "MaxPool" arg { name: "kernel" i: 2 } arg { name: "stride" i: 2 }
                 arg { name: "legacy_pad" i: 3 } }
            op { input: "pool" output: "drop" output: "mask" type: "Dropout" arg { name: "is_test" i: 1 } arg { name: "ratio" f: 0.5 } }
            op { input: "drop" input: "fc_w" input: "fc_b" output: "fc" type: "FC" }
            op { input: "fc" output: "prob" type: "Softmax" }
            external_input: "data"
            external_input: "conv_w"
            external_input: "conv_b"
            external_input: "bn_s"
            external_input: "bn_b"
            external_input: "bn_m"
            external_input: "bn_v"
            external_input: "bias"
            external_input: "fc_w"
            external_input: "fc_b"
            external_output: "prob"
            """;

    static final String CLASSIFIER_INIT = """
            op { output: "conv_w" type: "GivenTensorFill" arg { name: "shape" ints: 2 ints: 1 ints: 3 ints: 3 }
                 arg { name: "values" floats: 1 floats: 0 floats: -1 floats: 2 floats: 0 floats: -2 floats: 1 floats: 0 floats: -1
                                      floats: 0 floats: 1 floats: 0 floats: 1 floats: -4 floats: 1 floats: 0 floats: 1 floats: 0 } }
            op { output: "conv_b" type: "ConstantFill" arg { name: "shape" ints: 2 } arg { name: "value" f: 0.5 } }
            op { output: "bn_s" type: "ConstantFill" arg { name: "shape" ints: 2 } arg { name: "value" f: 2 } }
            op { output: "bn_b" type: "ConstantFill" arg { name: "shape" ints: 2 } }
            op { output: "bn_m" type: "GivenTensorFill" arg { name: "shape" ints: 2 } arg { name: "values" floats: 0.1 floats: -0.1 } }
            op { output: "bn_v" type: "GivenTensorFill" arg { name: "shape" ints: 2 } arg { name: "values" floats: 1 floats: 4 } }
            op { output: "bias" type: "GivenTensorFill" arg { name: "shape" ints: 2 } arg { name: "values" floats: 0.25 floats: -0.25 } }
            op { output: "fc_w" type: "GivenTensorFill" arg { name: "shape" ints: 3 ints: 12 }
                 arg { name: "values" floats: 1 floats: 2 floats: 3 floats: 4 floats: 5 floats: 6 floats: 7 floats: 8 floats: 9 floats: 10 floats: 11 floats: 12
                                      floats: 0 floats: 0 floats: 0 floats: 0 floats: 0 floats: 0 floats: 0 floats: 0 floats: 0 floats: 0 floats: 0 floats: 0
                                      floats: -1 floats: -1 floats: -1 floats: -1 floats: -1 floats: -1 floats: -1 floats: -1 floats: -1 floats: -1 floats: -1 floats: -1 } }
            op { output: "fc_b" type: "GivenTensorInt64Fill" arg { name: "shape" ints: 3 } arg { name: "values" ints: 1 ints: 2 ints: 3 } }
            """;

    @Test
    void handWrittenCaffe2NetReadsIntoKilnOps() {
        NetDef init = net(CLASSIFIER_INIT.replace("GivenTensorInt64Fill", "GivenTensorFill").replace("ints: 1 ints: 2 ints: 3 }", "floats: 1 floats: 2 floats: 3 }"));
        ImportedNet back = NetDefImporter.importNet(init, net(CLASSIFIER), Map.of("data", f32("N", 1, 5, 6)));
        assertEquals("""
                graph @classifier(%data: f32[N, 1, 5, 6]) weights(@conv_w: f32[2, 1, 3, 3], @conv_b: f32[2], @bn_s: f32[2], @bn_b: f32[2], @bn_m: f32[2], @bn_v: f32[2], @bias: f32[2], @fc_w: f32[3, 12], @fc_b: f32[3]) {
                  %0 = pad(%data) {pads = [1, 1, 0, 1]} : f32[N, 1, 6, 8]
                  %conv = conv2d(%0, @conv_w, @conv_b) {stride = [1, 1], padding = [0, 0], dilation = [1, 1], groups = 1} : f32[N, 2, 4, 6]
                  %1 = batch_norm(%conv, @bn_m, @bn_v, @bn_s, @bn_b) {eps = 0.0010000000474974513} : f32[N, 2, 4, 6]
                  %2 = relu(%1) : f32[N, 2, 4, 6]
                  %3 = reshape(@bias) {shape = [2, 1, 1]} : f32[2, 1, 1]
                  %biased = add(%2, %3) : f32[N, 2, 4, 6]
                  %pool = max_pool2d(%biased) {kernel_size = [2, 2], stride = [2, 2], padding = [0, 0], ceil_mode = true} : f32[N, 2, 2, 3]
                  %4 = flatten(%pool) {start_dim = 1, end_dim = -1} : f32[N, 12]
                  %fc = linear(%4, @fc_w, @fc_b) : f32[N, 3]
                  %prob = softmax(%fc) {axis = 1} : f32[N, 3]
                  return(%prob)
                }
                """, IrPrinter.print(back.graph()));
        assertEquals(2 * 4, back.weights().get("conv_b").remaining(), "ConstantFill makes a weight too");
        assertEquals(0.5f, back.weights().get("conv_b").getFloat(4));

        NetDefException e = assertThrows(NetDefException.class,
                () -> NetDefImporter.importNet(net(CLASSIFIER_INIT), net(CLASSIFIER), Map.of("data", f32("N", 1, 5, 6))));
        assertEquals("predict_net op #6 (FC -> 'fc'): linear: dtypes f32 and i64 differ (f32[N, 12] vs i64[3])", e.getMessage());
    }

    @Test
    void shapeOperatorsAndTheirSecondOutputs() {
        NetDef predict = net("""
                name: "shapes"
                op { input: "a" input: "b" output: "cat" output: "info" type: "Concat" arg { name: "axis" i: 1 } }
                op { input: "cat" output: "r" output: "old" type: "Reshape" arg { name: "shape" ints: 0 ints: -1 ints: 2 } }
                op { input: "r" output: "sm" type: "Softmax" }
                op { input: "sm" output: "t" type: "Transpose" }
                op { input: "t" output: "m" type: "ReduceMean" arg { name: "axes" ints: 0 } arg { name: "keepdims" i: 0 } }
                external_input: "a"
                external_input: "b"
                external_output: "m"
                external_output: "info"
                """);
        ImportedNet back = NetDefImporter.importNet(NetDef.getDefaultInstance(), predict, Map.of("a", f32("N", 4, 3), "b", f32("N", 2, 3)));
        assertEquals("""
                graph @shapes(%a: f32[N, 4, 3], %b: f32[N, 2, 3]) {
                  %cat = cat(%a, %b) {axis = 1} : f32[N, 6, 3]
                  %r = reshape(%cat) {shape = [N, -1, 2]} : f32[N, 9, 2]
                  %0 = flatten(%r) {start_dim = 1, end_dim = -1} : f32[N, 18]
                  %1 = softmax(%0) {axis = -1} : f32[N, 18]
                  %sm = reshape(%1) {shape = [N, 9, 2]} : f32[N, 9, 2]
                  %t = permute(%sm) {perm = [2, 1, 0]} : f32[2, 9, N]
                  %m = mean(%t) {axes = [0], keepdim = false} : f32[9, N]
                  %2 = constant() {value = dense<i32[2]: [4, 2]>} : i32[2]
                  return(%m, %2)
                }
                """, IrPrinter.print(back.graph()));
        NetDef readsOldShape = predict.toBuilder().addExternalOutput("old").build();
        NetDefException e = assertThrows(NetDefException.class, () -> NetDefImporter.importNet(NetDef.getDefaultInstance(), readsOldShape,
                Map.of("a", f32("N", 4, 3), "b", f32("N", 2, 3))));
        assertEquals("predict_net op #1 (Reshape -> 'r'): its old_shape output is read, but the input f32[N, 6, 3] is not static,"
                + " so Kiln cannot make it a constant; give the input static dims or do not read old_shape", e.getMessage());
    }

    @Test
    void matrixAndMiscellaneousOperators() {
        NetDef predict = net("""
                name: "misc"
                op { input: "x" input: "w" output: "lin" type: "MatMul" arg { name: "trans_b" i: 1 } }
                op { input: "x" input: "x" output: "mm" type: "MatMul" arg { name: "trans_a" i: 1 } }
                op { input: "cube" input: "w" output: "bmm" type: "BatchMatMul" arg { name: "broadcast" i: 1 } arg { name: "trans_b" i: 1 } }
                op { input: "cube" input: "w" input: "bias" output: "fc" type: "FC" arg { name: "axis" i: 2 } }
                op { input: "table" input: "ids" output: "emb" type: "Gather" }
                op { input: "ids" output: "ids32" type: "Cast" arg { name: "to" s: "INT32" } }
                op { input: "ids32" output: "total" type: "ReduceSum" }
                op { input: "lin" input: "lin" input: "lin" output: "tri" type: "Sum" }
                op { input: "tri" output: "sq" type: "Pow" arg { name: "exponent" f: 2 } }
                op { input: "sq" output: "lk" type: "LeakyRelu" }
                external_input: "x"
                external_input: "w"
                external_input: "cube"
                external_input: "bias"
                external_input: "table"
                external_input: "ids"
                external_output: "lk"
                external_output: "mm"
                external_output: "bmm"
                external_output: "fc"
                external_output: "emb"
                external_output: "total"
                """);
        ImportedNet back = NetDefImporter.importNet(NetDef.getDefaultInstance(), predict, Map.of(
                "x", f32(3, 4), "w", f32(4, 4), "cube", f32("B", 2, 4), "bias", f32(4), "table", f32(10, 4),
                "ids", TensorType.of(DType.I64, Dim.sym("B"), Dim.of(2))));
        assertEquals("""
                graph @misc(%x: f32[3, 4], %w: f32[4, 4], %cube: f32[B, 2, 4], %bias: f32[4], %table: f32[10, 4], %ids: i64[B, 2]) {
                  %lin = linear(%x, %w) : f32[3, 4]
                  %0 = permute(%x) {perm = [1, 0]} : f32[4, 3]
                  %mm = matmul(%0, %x) : f32[4, 4]
                  %1 = permute(%w) {perm = [1, 0]} : f32[4, 4]
                  %bmm = matmul(%cube, %1) : f32[B, 2, 4]
                  %fc = linear(%cube, %w, %bias) : f32[B, 2, 4]
                  %emb = embedding(%table, %ids) : f32[B, 2, 4]
                  %ids32 = cast(%ids) {dtype = i32} : i32[B, 2]
                  %2 = sum(%ids32) {axes = [0, 1], keepdim = true} : i64[1, 1]
                  %total = cast(%2) {dtype = i32} : i32[1, 1]
                  %3 = add(%lin, %lin) : f32[3, 4]
                  %tri = add(%3, %lin) : f32[3, 4]
                  %sq = pow_scalar(%tri) {exponent = 2.0} : f32[3, 4]
                  %lk = leaky_relu(%sq) {negative_slope = 0.01} : f32[3, 4]
                  return(%lk, %mm, %bmm, %fc, %emb, %total)
                }
                """, IrPrinter.print(back.graph()));
    }

    @Test
    void poolingArgumentForms() {
        NetDef predict = net("""
                name: "pools"
                op { input: "x" output: "ceil" type: "AveragePool" arg { name: "kernels" ints: 2 ints: 2 } arg { name: "strides" ints: 2 ints: 2 }
                     arg { name: "pads" ints: 0 ints: 0 ints: 1 ints: 0 } }
                op { input: "x" output: "incl" type: "AveragePool" arg { name: "kernel_h" i: 3 } arg { name: "kernel_w" i: 1 }
                     arg { name: "pad_t" i: 1 } arg { name: "pad_l" i: 0 } arg { name: "pad_b" i: 1 } arg { name: "pad_r" i: 0 }
                     arg { name: "count_include_pad" i: 1 } }
                op { input: "x" output: "gmax" type: "MaxPool" arg { name: "global_pooling" i: 1 } }
                op { input: "x" output: "gavg" type: "AveragePool" arg { name: "global_pooling" i: 1 } }
                external_input: "x"
                external_output: "ceil"
                external_output: "incl"
                external_output: "gmax"
                external_output: "gavg"
                """);
        ImportedNet back = NetDefImporter.importNet(NetDef.getDefaultInstance(), predict, Map.of("x", f32("N", 3, 5, 4)));
        assertEquals("""
                graph @pools(%x: f32[N, 3, 5, 4]) {
                  %ceil = avg_pool2d(%x) {kernel_size = [2, 2], stride = [2, 2], padding = [0, 0], ceil_mode = true, count_include_pad = false} : f32[N, 3, 3, 2]
                  %incl = avg_pool2d(%x) {kernel_size = [3, 1], stride = [1, 1], padding = [1, 0], ceil_mode = false, count_include_pad = true} : f32[N, 3, 5, 4]
                  %gmax = max_pool2d(%x) {kernel_size = [5, 4], stride = [1, 1]} : f32[N, 3, 1, 1]
                  %gavg = adaptive_avg_pool2d(%x) {output_size = [1, 1]} : f32[N, 3, 1, 1]
                  return(%ceil, %incl, %gmax, %gavg)
                }
                """, IrPrinter.print(back.graph()));
        NetDef lopsided = net("""
                op { input: "x" output: "y" type: "MaxPool" arg { name: "kernels" ints: 2 ints: 2 } arg { name: "pads" ints: 1 ints: 0 ints: 0 ints: 0 } }
                external_input: "x"
                external_output: "y"
                """);
        NetDefException e = assertThrows(NetDefException.class,
                () -> NetDefImporter.importNet(NetDef.getDefaultInstance(), lopsided, Map.of("x", f32("N", 3, 5, 4))));
        assertEquals("predict_net op #0 (MaxPool -> 'y'): pads [1, 0, 0, 0] on input f32[N, 3, 5, 4] have no Kiln form: Kiln pools"
                + " with equal pads on both sides, plus ceil_mode, which needs static H and W and the same window count", e.getMessage());
    }

    @Test
    void everyUnsupportedOperatorIsListedInOneException() {
        NetDef init = net("""
                op { output: "w" type: "XavierFill" arg { name: "shape" ints: 2 } }
                """);
        NetDef predict = net("""
                op { input: "x" output: "y" type: "LRN" }
                op { input: "y" output: "z" type: "Relu" }
                op { input: "z" output: "z" type: "LRN" }
                op { input: "z" output: "c" type: "Im2Col" }
                external_input: "x"
                external_output: "c"
                """);
        NetDefException e = assertThrows(NetDefException.class, () -> NetDefImporter.importNet(init, predict, Map.of("x", f32(1, 2, 3, 3))));
        assertEquals("cannot import the NetDef: operators 'XavierFill' (init_net #0), 'LRN' (predict_net #0, predict_net #2),"
                + " 'Im2Col' (predict_net #3) have no Kiln form (init nets may hold only GivenTensor*Fill and ConstantFill operators)",
                e.getMessage());
    }

    @Test
    void inputTypesMustCoverExactlyTheDataInputs() {
        NetDef init = net("""
                op { output: "w" type: "ConstantFill" arg { name: "shape" ints: 3 } arg { name: "value" f: 1 } }
                """);
        NetDef predict = net("""
                op { input: "x" input: "w" output: "y" type: "Mul" }
                op { input: "y" input: "mask" output: "z" type: "Mul" }
                external_input: "x"
                external_input: "w"
                external_input: "mask"
                external_output: "z"
                """);
        NetDefException missing = assertThrows(NetDefException.class, () -> NetDefImporter.importNet(init, predict, Map.of("x", f32(3))));
        assertEquals("no type for data input [mask]; NetDef carries no types, so pass each external input the init_net does not write"
                + " in inputTypes (data inputs: [x, mask])", missing.getMessage());
        NetDefException extra = assertThrows(NetDefException.class,
                () -> NetDefImporter.importNet(init, predict, Map.of("x", f32(3), "mask", f32(3), "w", f32(3))));
        assertEquals("inputTypes names [w], which is not a data input of predict_net (data inputs: [x, mask])", extra.getMessage());
        NetDef unknownBlob = predict.toBuilder().setOp(1, predict.getOp(1).toBuilder().setInput(1, "masks")).build();
        NetDefException blob = assertThrows(NetDefException.class,
                () -> NetDefImporter.importNet(init, unknownBlob, Map.of("x", f32(3), "mask", f32(3))));
        assertEquals("predict_net op #1 (Mul -> 'z'): blob 'masks' is not written by an earlier operator, the init_net or an external_input",
                blob.getMessage());
        NetDef noOutputs = predict.toBuilder().clearExternalOutput().build();
        NetDefException outputs = assertThrows(NetDefException.class,
                () -> NetDefImporter.importNet(init, noOutputs, Map.of("x", f32(3), "mask", f32(3))));
        assertEquals("predict_net has no external_output, so the model has no outputs", outputs.getMessage());
    }

    @Test
    void badOperatorsNameTheirPositionAndProblem() {
        assertImportError("op { input: \"x\" input: \"s\" input: \"b\" input: \"m\" input: \"v\" output: \"y\" type: \"SpatialBN\" }",
                "predict_net op #0 (SpatialBN -> 'y'): SpatialBN in training mode (is_test = 0) normalises with batch statistics;"
                        + " only is_test = 1 can be imported");
        assertImportError("op { input: \"x\" output: \"y\" output: \"mask\" type: \"Dropout\" arg { name: \"is_test\" i: 1 } }"
                        + " op { input: \"mask\" output: \"z\" type: \"Relu\" }",
                "predict_net op #0 (Dropout -> 'y'): its mask output is read, but a test-mode Dropout does not write one");
        assertImportError("op { input: \"x\" output: \"y\" type: \"Softmax\" arg { name: \"axis\" i: 1 } arg { name: \"axis\" i: 2 } }",
                "predict_net op #0 (Softmax -> 'y'): argument 'axis' is given twice");
        assertImportError("op { input: \"x\" output: \"y\" type: \"Transpose\" arg { name: \"axes\" i: 1 } }",
                "predict_net op #0 (Transpose -> 'y'): argument 'axes' must be a list of ints (field ints), got int 1");
        assertImportError("op { output: \"c\" type: \"GivenTensorFill\" arg { name: \"shape\" ints: 2 ints: 2 } arg { name: \"values\" floats: 1 } }",
                "predict_net op #0 (GivenTensorFill -> 'c'): 'values' has 1 floats but shape [2, 2] needs 4");
        assertImportError("op { input: \"x\" input: \"x\" output: \"y\" type: \"Conv\" arg { name: \"order\" s: \"NHWC\" } }",
                "predict_net op #0 (Conv -> 'y'): order 'NHWC' is not supported; only NCHW is");
        assertImportError("op { input: \"x\" output: \"y\" type: \"Relu\" } op { input: \"y\" input: \"x\" output: \"z\" type: \"Add\""
                        + " arg { name: \"axis\" i: 1 } }",
                "predict_net op #1 (Add -> 'z'): 'axis' is given without broadcast = 1, which Caffe2 refuses");
    }

    private static void assertImportError(String ops, String message) {
        NetDef predict = net(ops + " external_input: \"x\" external_output: \"y\"");
        NetDefException e = assertThrows(NetDefException.class, () -> NetDefImporter.importNet(NetDef.getDefaultInstance(), predict,
                Map.of("x", f32(2, 3, 4, 4))));
        assertEquals(message, e.getMessage());
    }

    @Test
    void savedFilesLoadBackAndMalformedOnesAreRefused(@TempDir Path dir) throws IOException {
        NetDefModel m = NetDefExporter.export(IrParser.parse(NetDefExporterTest.SMALL), NetDefExporterTest.smallWeights());
        Path init = dir.resolve("init_net.pb"), predict = dir.resolve("predict_net.pb");
        m.save(init, predict);
        assertEquals(m, NetDefModel.load(init, predict));

        Path garbage = dir.resolve("garbage.pb");
        Files.write(garbage, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 0x12, 0x7f});
        NetDefException bad = assertThrows(NetDefException.class, () -> NetDefModel.load(init, garbage));
        assertTrue(bad.getMessage().startsWith("predict_net file " + garbage + " is not a valid Caffe2 NetDef protobuf: "), bad.getMessage());

        byte[] bytes = Files.readAllBytes(predict);
        Path truncated = dir.resolve("truncated.pb");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        assertThrows(NetDefException.class, () -> NetDefModel.load(truncated, predict));
        UncheckedIOException missing = assertThrows(UncheckedIOException.class, () -> NetDefModel.load(dir.resolve("none.pb"), predict));
        assertTrue(missing.getMessage().startsWith("cannot read init_net from "), missing.getMessage());

        NetDefException noTypes = assertThrows(NetDefException.class,
                () -> NetDefImporter.importNet(NetDefModel.load(predict, init), Map.of("x", f32("N", 4))));
        assertTrue(noTypes.getMessage().startsWith("cannot import the NetDef: operators 'FC' (init_net #0)"), noTypes.getMessage());
    }

    @Test
    void constantsCastsAndIntegerSumsRoundTrip() {
        NetDefModel m = NetDefExporter.export(IrParser.parse("""
                graph @k(%x: i32[N, 2]) {
                  %c = constant() {value = dense<i32[2]: [3, -4]>} : i32[2]
                  %s = constant() {value = dense<f32[]: [0.5]>} : f32[]
                  %0 = mul(%x, %c) : i32[N, 2]
                  %1 = cast(%0) {dtype = f32} : f32[N, 2]
                  %2 = mul(%1, %s) : f32[N, 2]
                  %3 = sum(%0) {axes = [-1]} : i64[N]
                  return(%2, %3)
                }
                """), Map.of());
        assertEquals(List.of("GivenTensorIntFill", "GivenTensorFill", "Mul", "Cast", "Mul", "Cast", "ReduceSum"),
                NetDefExporterTest.types(m.predictNet()));
        ImportedNet back = NetDefImporter.importNet(m, Map.of("x", TensorType.of(DType.I32, Dim.sym("N"), Dim.of(2))));
        assertEquals("""
                graph @k(%x: i32[N, 2]) {
                  %c = constant() {value = dense<i32[2]: [3, -4]>} : i32[2]
                  %s = constant() {value = dense<f32[]: [0.5]>} : f32[]
                  %v = mul(%x, %c) : i32[N, 2]
                  %v_1 = cast(%v) {dtype = f32} : f32[N, 2]
                  %output = mul(%v_1, %s) : f32[N, 2]
                  %v_i64 = cast(%v) {dtype = i64} : i64[N, 2]
                  %output_1 = sum(%v_i64) {axes = [1], keepdim = false} : i64[N]
                  return(%output, %output_1)
                }
                """, IrPrinter.print(back.graph()));
    }
}
