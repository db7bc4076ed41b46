package dev.kiln.ir;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Inference, operand checks and the text form of the host-scalar ops. */
class ScalarOpsTest {

    private static Graph graphWithScalars(Builder[] out, Value[] ins) {
        Graph g = new Graph("scalars");
        ins[0] = g.addInput("i", ScalarType.INT);
        ins[1] = g.addInput("f", ScalarType.FLOAT);
        ins[2] = g.addInput("b", ScalarType.BOOL);
        out[0] = Builder.atEnd(g.body());
        return g;
    }

    @Test
    void inferenceGivesJavaResultTypes() {
        Builder[] bb = new Builder[1];
        Value[] v = new Value[3];
        Graph g = graphWithScalars(bb, v);
        Builder b = bb[0];
        assertEquals(ScalarType.INT, b.op("scalar_add", v[0], v[0]).type());
        assertEquals(ScalarType.FLOAT, b.op("scalar_div", v[1], v[1]).type());
        assertEquals(ScalarType.FLOAT, b.op("scalar_neg", v[1]).type());
        assertEquals(ScalarType.BOOL, b.op("scalar_lt", v[0], v[0]).type());
        assertEquals(ScalarType.BOOL, b.op("scalar_eq", v[2], v[2]).type());
        assertEquals(ScalarType.BOOL, b.op("scalar_and", v[2], v[2]).type());
        assertEquals(ScalarType.BOOL, b.op("scalar_not", v[2]).type());
        assertEquals(ScalarType.FLOAT, b.op("scalar_select", v[2], v[1], v[1]).type());
        assertEquals(ScalarType.INT, b.op("scalar_cast", Map.of("to", Attribute.of("int32")), v[1]).type());
        assertEquals(ScalarType.FLOAT, b.op("scalar_cast", Map.of("to", Attribute.of("float")), v[0]).type());
        assertEquals(ScalarType.BOOL, b.op("scalar_cast", Map.of("to", Attribute.of("bool")), v[0]).type());
        Value t = b.op("tensor_from_scalar", v[1]);
        assertEquals(new TensorType(DType.F64, Shape.SCALAR), t.type());
        b.ret(t);
        Verifier.verify(g);
        String text = IrPrinter.print(g);
        assertEquals(text, IrPrinter.print(IrParser.parse(text)));
        assertTrue(text.contains("scalar_cast"), text);
    }

    @Test
    void operandKindsAreCheckedWithClearErrors() {
        Builder[] bb = new Builder[1];
        Value[] v = new Value[3];
        graphWithScalars(bb, v);
        Builder b = bb[0];
        assertMessage("scalar_add: operands must have one scalar type, got int and float", () -> b.op("scalar_add", v[0], v[1]));
        assertMessage("scalar_mul: operand 0 must be an int or float scalar, got bool", () -> b.op("scalar_mul", v[2], v[2]));
        assertMessage("scalar_lt: operand 0 must be an int or float scalar, got bool", () -> b.op("scalar_lt", v[2], v[2]));
        assertMessage("scalar_and: operand 0 must be a bool scalar, got int", () -> b.op("scalar_and", v[0], v[2]));
        assertMessage("scalar_select: operand 0 must be a bool scalar", () -> b.op("scalar_select", v[0], v[1], v[1]));
        assertMessage("scalar_select: a and b must have one type, got int and float", () -> b.op("scalar_select", v[2], v[0], v[1]));
        assertMessage("scalar_cast: 'to' must be one of int, int32, float, bool; got 'i8'",
                () -> b.op("scalar_cast", Map.of("to", Attribute.of("i8")), v[0]));
        assertMessage("scalar_cast: missing required attribute 'to'", () -> b.op("scalar_cast", v[0]));
        Value tensor = b.op("tensor_from_scalar", v[0]);
        assertMessage("scalar_neg: operand 0 ('a') must be scalar", () -> b.op("scalar_neg", tensor));
    }

    private static void assertMessage(String start, Runnable r) {
        IrException e = assertThrows(IrException.class, r::run);
        assertTrue(e.getMessage().startsWith(start), "expected '" + start + "...', got: " + e.getMessage());
    }
}
