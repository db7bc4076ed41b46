package dev.kiln.runtime;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.Graph;
import dev.kiln.ir.ScalarType;
import dev.kiln.ir.Value;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The interpreter evaluates host-scalar ops exactly as Java evaluates the same expressions. */
class ScalarOpsEvalTest {

    /** Runs a one-op graph {@code op(a[, b])} on Java values. */
    static Object run(String op, Map<String, Attribute> attrs, Object... args) {
        Graph g = new Graph("g");
        Value[] in = new Value[args.length];
        for (int i = 0; i < args.length; i++) {
            ScalarType t = args[i] instanceof Long ? ScalarType.INT : args[i] instanceof Double ? ScalarType.FLOAT : ScalarType.BOOL;
            in[i] = g.addInput("a" + i, t);
        }
        Builder b = Builder.atEnd(g.body());
        b.ret(b.op(op, attrs, in));
        return Interpreter.run(g, List.of(args), Map.of()).get(0);
    }

    static Object run(String op, Object... args) { return run(op, Map.of(), args); }

    static Object cast(String to, Object v) { return run("scalar_cast", Map.of("to", Attribute.of(to)), v); }

    @Provide
    Arbitrary<Double> doubles() {
        return Arbitraries.oneOf(Arbitraries.doubles(), Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                -0.0, 0x1p63, -0x1p63, 0x1p31, -0x1p31 - 1, 2147483647.5, 1e300, -1e300), Arbitraries.doubles().between(-1e20, 1e20));
    }

    @Property(tries = 300)
    void longArithmeticWrapsLikeJava(@ForAll long a, @ForAll long b) {
        assertEquals(a + b, run("scalar_add", a, b));
        assertEquals(a - b, run("scalar_sub", a, b));
        assertEquals(a * b, run("scalar_mul", a, b));
        assertEquals(-a, run("scalar_neg", a));
        if (b != 0) assertEquals(a / b, run("scalar_div", a, b));
        assertEquals(a < b, run("scalar_lt", a, b));
        assertEquals(a <= b, run("scalar_le", a, b));
        assertEquals(a == b, run("scalar_eq", a, b));
        assertEquals(a != b, run("scalar_ne", a, b));
        assertEquals((long) (int) a, cast("int32", a));
        assertEquals((double) a, cast("float", a));
        assertEquals(a != 0, cast("bool", a));
    }

    @Property(tries = 300)
    void doubleArithmeticAndConversionsMatchJava(@ForAll("doubles") double a, @ForAll("doubles") double b) {
        assertEquals(a + b, run("scalar_add", a, b));
        assertEquals(a - b, run("scalar_sub", a, b));
        assertEquals(a * b, run("scalar_mul", a, b));
        assertEquals(a / b, run("scalar_div", a, b));
        assertEquals(-a, run("scalar_neg", a));
        assertEquals(a < b, run("scalar_lt", a, b));
        assertEquals(a <= b, run("scalar_le", a, b));
        assertEquals(a == b, run("scalar_eq", a, b));
        assertEquals(a != b, run("scalar_ne", a, b));
        assertEquals((long) a, cast("int", a));
        assertEquals((long) (int) a, cast("int32", a));
        assertEquals(a != 0, cast("bool", a));
    }

    @Test
    void edgeCases() {
        assertEquals(Long.MIN_VALUE, run("scalar_div", Long.MIN_VALUE, -1L));
        assertEquals(-3L, run("scalar_div", -7L, 2L));
        assertThrows(ArithmeticException.class, () -> run("scalar_div", 1L, 0L));
        assertEquals(0L, cast("int32", Double.NaN));
        assertEquals(0L, cast("int", Double.NaN));
        assertEquals((long) Integer.MAX_VALUE, cast("int32", 1e12));
        assertEquals(Long.MIN_VALUE, cast("int", -1e30));
        assertEquals(true, cast("bool", Double.NaN));
        assertEquals(1L, cast("int", true));
        assertEquals(0.0, cast("float", false));
        assertEquals(false, run("scalar_and", true, false));
        assertEquals(true, run("scalar_or", true, false));
        assertEquals(false, run("scalar_not", true));
        assertEquals(5L, run("scalar_select", false, 4L, 5L));
        NDArray t = (NDArray) run("tensor_from_scalar", 2.5);
        assertEquals(0, t.rank());
        assertEquals(2.5, t.getFlat(0));
    }
}
