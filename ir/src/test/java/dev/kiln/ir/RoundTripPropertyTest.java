package dev.kiln.ir;

import dev.kiln.ir.testing.RandomGraphs;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Printing and parsing are inverse on random graphs, and tensor constants keep their exact bits. */
class RoundTripPropertyTest {

    @Provide
    Arbitrary<Graph> graphs() { return RandomGraphs.graphs(); }

    @Property(tries = 300)
    void printParsePrintIsStable(@ForAll("graphs") Graph g) {
        String text = IrPrinter.print(g);
        Graph parsed = IrParser.parse(text);
        Verifier.verify(parsed);
        assertEquals(text, IrPrinter.print(parsed));
        assertEquals(g.inputs().size(), parsed.inputs().size());
        assertEquals(g.weights().keySet(), parsed.weights().keySet());
        assertEquals(g.outputs().stream().map(Value::type).toList(), parsed.outputs().stream().map(Value::type).toList());
    }

    @Property
    void f32ConstantsKeepTheirBits(@ForAll int bits) {
        float f = Float.intBitsToFloat(bits);
        Assume.that(!Float.isNaN(f));
        byte[] data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(bits).array();
        assertArrayEquals(data, roundTrip(TensorType.of(DType.F32, 1), data));
    }

    @Property
    void f64ConstantsKeepTheirBits(@ForAll long bits) {
        Assume.that(!Double.isNaN(Double.longBitsToDouble(bits)));
        byte[] data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(bits).array();
        assertArrayEquals(data, roundTrip(TensorType.of(DType.F64, 1), data));
    }

    @Property
    void halfConstantsKeepTheirBits(@ForAll short bits) {
        byte[] data = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(bits).array();
        if (!Float.isNaN(Float.float16ToFloat(bits))) {
            assertArrayEquals(data, roundTrip(TensorType.of(DType.F16, 1), data), "f16");
        }
        if (!Float.isNaN(Float.intBitsToFloat((bits & 0xffff) << 16))) {
            assertArrayEquals(data, roundTrip(TensorType.of(DType.BF16, 1), data), "bf16");
        }
    }

    @Property(tries = 200)
    void floatAttributesKeepTheirBits(@ForAll double a, @ForAll double b) {
        Assume.that(!Double.isNaN(a) && !Double.isNaN(b));
        Graph g = new Graph("g");
        Builder bld = Builder.atEnd(g.body());
        bld.ret(bld.constant(Attribute.of(a)));
        TestOps.register();
        Value x = g.addInput("x", TensorType.of(DType.F32, 2));
        Builder.before(g.returnOp()).op(TestOps.NOTE, Builder.attrs("label", "s", "scales", new double[] {a, b}, "either", new long[0]), x);
        Graph parsed = IrParser.parse(IrPrinter.print(g));
        Op constant = parsed.body().ops().get(0);
        assertEquals(Double.doubleToLongBits(a), Double.doubleToLongBits(constant.floatAttr("value")));
        double[] scales = ((Attribute.Floats) parsed.body().ops().get(1).attr("scales")).values();
        assertEquals(Arrays.toString(new double[] {a, b}), Arrays.toString(scales));
    }

    private static byte[] roundTrip(TensorType type, byte[] data) {
        Graph g = new Graph("c");
        Builder b = Builder.atEnd(g.body());
        b.ret(b.constant(new Attribute.Tensor(type, data)));
        Graph parsed = IrParser.parse(IrPrinter.print(g));
        return ((Attribute.Tensor) parsed.body().ops().get(0).attr("value")).data();
    }
}
