package dev.kiln.onnx.netdef;

import com.google.protobuf.TextFormat;
import dev.kiln.ir.Graph;
import dev.kiln.ir.IrParser;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.Argument;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.NetDef;
import dev.kiln.onnx.caffe2.proto.Caffe2Protos.OperatorDef;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The NetDefs the exporter writes: operator types, arguments, fills, external inputs and outputs, and refusals. */
class NetDefExporterTest {

    /** Little-endian f32 bytes. */
    static ByteBuffer f32(double... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) b.putFloat((float) x);
        return b.flip();
    }

    static final String SMALL = """
            graph @small(%x: f32[N, 4]) weights(@fc.weight: f32[3, 4], @fc.bias: f32[3], @shift: f32[3]) {
              %h = linear(%x, @fc.weight, @fc.bias) : f32[N, 3]
              %r = relu(%h) : f32[N, 3]
              %s = add(%r, @shift) : f32[N, 3]
              %t = reshape(%s) {shape = [N, 3, 1]} : f32[N, 3, 1]
              %p = softmax(%t) {axis = 1} : f32[N, 3, 1]
              return(%p, %r)
            }
            """;

    static Map<String, ByteBuffer> smallWeights() {
        Map<String, ByteBuffer> w = new LinkedHashMap<>();
        w.put("fc.weight", f32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
        w.put("fc.bias", f32(0.5, -0.5, 0.25));
        w.put("shift", f32(1, 0, -1));
        return w;
    }

    @Test
    void smallGraphGolden() {
        NetDefModel m = NetDefExporter.export(IrParser.parse(SMALL), smallWeights());
        assertEquals("""
                name: "small"
                op {
                  input: "x"
                  input: "fc.weight"
                  input: "fc.bias"
                  output: "h"
                  type: "FC"
                }
                op {
                  input: "h"
                  output: "output_1"
                  type: "Relu"
                }
                op {
                  input: "output_1"
                  input: "shift"
                  output: "s"
                  type: "Add"
                  arg {
                    name: "broadcast"
                    i: 1
                  }
                  arg {
                    name: "axis"
                    i: 1
                  }
                }
                op {
                  input: "s"
                  output: "t"
                  output: "t_old_shape"
                  type: "Reshape"
                  arg {
                    name: "shape"
                    ints: 0
                    ints: 3
                    ints: 1
                  }
                }
                op {
                  input: "t"
                  output: "output"
                  type: "Softmax"
                  arg {
                    name: "axis"
                    i: 1
                  }
                }
                type: "simple"
                external_input: "x"
                external_input: "fc.weight"
                external_input: "fc.bias"
                external_input: "shift"
                external_output: "output"
                external_output: "output_1"
                """, TextFormat.printer().printToString(m.predictNet()));
        assertEquals("""
                output: "fc.bias"
                type: "GivenTensorFill"
                arg {
                  name: "shape"
                  ints: 3
                }
                arg {
                  name: "values"
                  floats: 0.5
                  floats: -0.5
                  floats: 0.25
                }
                """, TextFormat.printer().printToString(m.initNet().getOp(1)));
        assertEquals("small_init", m.initNet().getName());
        assertEquals(List.of("GivenTensorFill", "GivenTensorFill", "GivenTensorFill"), types(m.initNet()));
        assertEquals(List.of("fc.weight", "fc.bias", "shift"), m.initNet().getExternalOutputList());
        assertEquals("simple", m.initNet().getType());
        assertEquals(List.of(3L, 4L), arg(m.initNet().getOp(0), "shape").getIntsList());
        assertEquals(12, arg(m.initNet().getOp(0), "values").getFloatsCount());
    }

    @Test
    void convolutionAndPoolingArguments() {
        Graph g = parse("""
                graph @cnn(%x: f32[N, 4, 9, 10]) weights(@w: f32[6, 2, 3, 3], @b: f32[6], @w2: f32[6, 6, 1, 1]) {
                  %c = conv2d(%x, @w, @b) {stride = [2, 1], padding = [1, 0], groups = 2} : f32[N, 6, 5, 8]
                  %d = conv2d_act(%c, @w2) {dilation = [2, 2], activation = "relu"} : f32[N, 6, 5, 8]
                  %m = max_pool2d(%d) {kernel_size = [2, 2], stride = [2, 2], ceil_mode = true} : f32[N, 6, 3, 4]
                  %a = avg_pool2d(%d) {kernel_size = [3, 3], stride = [1, 1], padding = [1, 1]} : f32[N, 6, 5, 8]
                  %e = avg_pool2d(%d) {kernel_size = [3, 3], stride = [2, 2], padding = [1, 1], count_include_pad = false} : f32[N, 6, 3, 4]
                  %g = adaptive_avg_pool2d(%d) {output_size = [1, 1]} : f32[N, 6, 1, 1]
                  return(%m, %a, %e, %g)
                }
                """);
        NetDefModel m = NetDefExporter.export(g, Map.of("w", f32(new double[108]), "b", f32(new double[6]), "w2", f32(new double[36])));
        List<OperatorDef> ops = m.predictNet().getOpList();
        assertEquals(List.of("Conv", "Conv", "Relu", "MaxPool", "AveragePool", "AveragePool", "AveragePool"), types(m.predictNet()));
        OperatorDef conv = ops.get(0);
        assertEquals(List.of("x", "w", "b"), conv.getInputList());
        assertEquals(List.of(3L, 3L), arg(conv, "kernels").getIntsList());
        assertEquals(List.of(2L, 1L), arg(conv, "strides").getIntsList());
        assertEquals(List.of(1L, 0L, 1L, 0L), arg(conv, "pads").getIntsList(), "pads are [t, l, b, r]");
        assertEquals(List.of(1L, 1L), arg(conv, "dilations").getIntsList());
        assertEquals(2, arg(conv, "group").getI());
        assertEquals("NCHW", arg(conv, "order").getS().toStringUtf8());
        assertEquals(List.of(2L, 2L), arg(ops.get(1), "dilations").getIntsList());
        assertEquals(ops.get(1).getOutput(0), ops.get(2).getInput(0), "the fused relu reads the convolution");
        assertEquals(List.of(0L, 0L, 1L, 0L), arg(ops.get(3), "pads").getIntsList(), "ceil_mode on H = 5 pads the bottom");
        assertEquals(1, arg(ops.get(4), "count_include_pad").getI());
        assertEquals(List.of(1L, 1L, 1L, 1L), arg(ops.get(4), "pads").getIntsList());
        assertEquals(0, arg(ops.get(5), "count_include_pad").getI());
        assertEquals(1, arg(ops.get(6), "global_pooling").getI());
    }

    @Test
    void broadcastingIsLegacyWhereItFitsAndNumPyOtherwise() {
        Graph g = parse("""
                graph @bc(%x: f32[N, 3, 4, 5], %c: f32[3, 1, 1], %r: f32[5], %s: f32[1], %u: f32[N, 1, 4, 1], %v: f32[4, 5]) {
                  %0 = add(%x, %x) : f32[N, 3, 4, 5]
                  %1 = mul(%x, %c) : f32[N, 3, 4, 5]
                  %2 = add(%r, %x) : f32[N, 3, 4, 5]
                  %3 = sub(%r, %x) : f32[N, 3, 4, 5]
                  %4 = div(%x, %u) : f32[N, 3, 4, 5]
                  %5 = sub(%x, %s) : f32[N, 3, 4, 5]
                  %6 = gt(%x, %v) : bool[N, 3, 4, 5]
                  return(%0, %1, %2, %3, %4, %5, %6)
                }
                """);
        List<OperatorDef> ops = NetDefExporter.export(g, Map.of()).predictNet().getOpList();
        assertTrue(ops.get(0).getArgList().isEmpty(), "equal shapes");
        assertEquals(List.of(1L, 1L), List.of(arg(ops.get(1), "broadcast").getI(), arg(ops.get(1), "axis").getI()), "[3, 1, 1] from axis 1");
        assertEquals(List.of("x", "r"), ops.get(2).getInputList(), "commutative add puts the broadcast operand second");
        assertEquals(3, arg(ops.get(2), "axis").getI());
        assertEquals(List.of("r", "x"), ops.get(3).getInputList(), "sub keeps its order...");
        assertTrue(ops.get(3).getArgList().isEmpty(), "...and broadcasts like NumPy");
        assertTrue(ops.get(4).getArgList().isEmpty(), "[N, 1, 4, 1] has an interior 1 that legacy broadcasting cannot express");
        assertEquals(1, arg(ops.get(5), "broadcast").getI(), "a one-element B is legacy broadcast");
        assertEquals(List.of(1L, 2L), List.of(arg(ops.get(6), "broadcast").getI(), arg(ops.get(6), "axis").getI()));
        assertEquals("GT", ops.get(6).getType());
    }

    @Test
    void reshapeTargetsUseZeroForCopiedSymbolsAndOneInferredSize() {
        NetDefModel m = NetDefExporter.export(parse("""
                graph @rs(%x: f32[N, C, 6]) {
                  %a = reshape(%x) {shape = [N, C, 2, 3]} : f32[N, C, 2, 3]
                  %b = reshape(%x) {shape = [N, -1]} : f32[N, ?]
                  %c = flatten(%a) {start_dim = 2} : f32[N, C, 6]
                  %d = flatten(%a) : f32[?]
                  %e = flatten(%a) {start_dim = 1} : f32[N, ?]
                  return(%b, %c, %d, %e)
                }
                """), Map.of());
        List<OperatorDef> ops = m.predictNet().getOpList();
        assertEquals(List.of("Reshape", "Reshape", "Reshape", "FlattenToVec", "Flatten"), types(m.predictNet()));
        assertEquals(List.of(0L, 0L, 2L, 3L), arg(ops.get(0), "shape").getIntsList());
        assertEquals(List.of(0L, -1L), arg(ops.get(1), "shape").getIntsList());
        assertEquals(List.of(0L, 0L, 6L), arg(ops.get(2), "shape").getIntsList());
        NetDefException e = assertThrows(NetDefException.class, () -> NetDefExporter.export(parse("""
                graph @rs(%x: f32[N, C, 6]) {
                  %b = reshape(%x) {shape = [C, N, 6]} : f32[C, N, 6]
                  %z = reshape(%x) {shape = [0, 6]} : f32[0, 6]
                  return(%b, %z)
                }
                """), Map.of()));
        assertTrue(e.getMessage().contains("reshape: target shape [C, N, 6] of input f32[N, C, 6] needs 2 inferred sizes"), e.getMessage());
        assertTrue(e.getMessage().contains("reshape: target shape [0, 6] has a literal 0 size"), e.getMessage());
    }

    @Test
    void softmaxOverAnInnerAxisMovesItLast() {
        NetDefModel m = NetDefExporter.export(parse("""
                graph @sm(%x: f32[N, 3, 4]) {
                  %0 = softmax(%x) {axis = 1} : f32[N, 3, 4]
                  return(%0)
                }
                """), Map.of());
        List<OperatorDef> ops = m.predictNet().getOpList();
        assertEquals(List.of("Transpose", "Softmax", "Transpose"), types(m.predictNet()));
        assertEquals(List.of(0L, 2L, 1L), arg(ops.get(0), "axes").getIntsList());
        assertEquals(2, arg(ops.get(1), "axis").getI());
        assertEquals(List.of(0L, 2L, 1L), arg(ops.get(2), "axes").getIntsList());
    }

    @Test
    void everyUnsupportedOpIsListedInOneException() {
        NetDefException e = assertThrows(NetDefException.class, () -> NetDefExporter.export(parse("""
                graph @bad(%x: f32[2, 4, 6, 6]) weights(@w: f32[4, 2, 3, 3]) {
                  %0 = log_softmax(%x) : f32[2, 4, 6, 6]
                  %1 = tril(%0) : f32[2, 4, 6, 6]
                  %2 = tril(%1) : f32[2, 4, 6, 6]
                  %3 = conv2d(%2, @w) {groups = 2, dilation = [2, 2]} : f32[2, 4, 2, 2]
                  %4 = max_pool2d(%x) {kernel_size = [2, 2], stride = [1, 1], dilation = [2, 2]} : f32[2, 4, 4, 4]
                  %5 = relu(%3) : f32[2, 4, 2, 2]
                  return(%5, %4)
                }
                """), Map.of()));
        assertEquals("""
                cannot export graph 'bad' as a Caffe2 NetDef:
                  - op 'log_softmax' (1 use) has no Caffe2 form
                  - op 'tril' (2 uses) has no Caffe2 form
                  - no data for weight 'w' f32[4, 2, 3, 3]; pass its bytes in the weights map
                  - conv2d: Caffe2 Conv refuses group 2 together with dilation [2, 2]; it supports grouped or dilated convolution, not both
                  - max_pool2d: Caffe2 MaxPool has no dilation, got [2, 2]""", e.getMessage());
    }

    @Test
    void weightsOfEachDtypeUseTheirFillOp() {
        Graph g = parse("""
                graph @w(%x: f32[2]) weights(@l: i64[2], @i: i32[2], @b: bool[3], @u: u8[2], @d: f64[2], @h: i16[1]) {
                  return(%x)
                }
                """);
        Map<String, ByteBuffer> w = new LinkedHashMap<>();
        w.put("l", ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-3).putLong(1L << 40).flip());
        w.put("i", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(7).putInt(-8).flip());
        w.put("b", ByteBuffer.wrap(new byte[] {1, 0, 1}));
        w.put("u", ByteBuffer.wrap(new byte[] {(byte) 200, 3}));
        w.put("d", ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.5).putDouble(-2).flip());
        w.put("h", ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) -300).flip());
        NetDefModel m = NetDefExporter.export(g, w);
        List<OperatorDef> fills = m.initNet().getOpList();
        assertEquals(List.of("GivenTensorInt64Fill", "GivenTensorIntFill", "GivenTensorBoolFill", "GivenTensorByteStringToUInt8Fill",
                "GivenTensorDoubleFill", "GivenTensorInt16Fill"), types(m.initNet()));
        assertEquals(List.of(-3L, 1L << 40), arg(fills.get(0), "values").getIntsList());
        assertEquals(List.of(1L, 0L, 1L), arg(fills.get(2), "values").getIntsList());
        assertEquals(2, arg(fills.get(3), "values").getStrings(0).size());
        assertEquals(List.of(0.5f, -2f), arg(fills.get(4), "values").getFloatsList());
        OperatorDef copy = m.predictNet().getOp(0);
        assertEquals(List.of("Copy", "x", "output"), List.of(copy.getType(), copy.getInput(0), copy.getOutput(0)),
                "an output that is an input is copied to its output blob");

        w.put("d", ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(0).flip());
        NetDefException e = assertThrows(NetDefException.class, () -> NetDefExporter.export(g, w));
        assertTrue(e.getMessage().contains("weight 'd' f64[2] holds 0.1 (element 0), which float32 cannot hold exactly"), e.getMessage());
        NetDefException half = assertThrows(NetDefException.class, () -> NetDefExporter.export(parse("""
                graph @h(%x: f16[2]) weights(@k: f16[2]) {
                  return(%x)
                }
                """), Map.of("k", ByteBuffer.allocate(4))));
        assertTrue(half.getMessage().contains("weight 'k' is f16[2], but Caffe2 has no fill op for f16"), half.getMessage());
        NetDefException size = assertThrows(NetDefException.class, () -> NetDefExporter.export(parse("""
                graph @s(%x: f32[2]) weights(@k: f32[2]) {
                  return(%x)
                }
                """), Map.of("k", ByteBuffer.allocate(4))));
        assertTrue(size.getMessage().contains("weight 'k' f32[2] needs 8 bytes but its buffer has 4"), size.getMessage());
    }

    @Test
    void opsWithoutAPerfectCaffe2DtypeAreRefused() {
        NetDefException e = assertThrows(NetDefException.class, () -> NetDefExporter.export(parse("""
                graph @t(%x: i64[4], %y: f64[4]) {
                  %0 = relu(%x) : i64[4]
                  %1 = softmax(%y) : f64[4]
                  return(%0, %1)
                }
                """), Map.of()));
        assertTrue(e.getMessage().contains("relu: Caffe2 Relu computes [f32] tensors, but operand 0 is i64[4]"), e.getMessage());
        assertTrue(e.getMessage().contains("softmax: Caffe2 Softmax computes [f32] tensors, but operand 0 is f64[4]"), e.getMessage());
    }

    static List<String> types(NetDef net) { return net.getOpList().stream().map(OperatorDef::getType).toList(); }

    static Argument arg(OperatorDef op, String name) {
        return op.getArgList().stream().filter(a -> a.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(op.getType() + " has no argument '" + name + "': " + op));
    }

    static Graph parse(String text) { return IrParser.parse(text); }
}
