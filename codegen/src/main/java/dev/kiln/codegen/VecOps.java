package dev.kiln.codegen;

import dev.kiln.runtime.kernels.VectorExp;
import dev.kiln.runtime.kernels.VectorLanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector API forms of the elementwise ops generated loops compute (the species is chosen once, at run time, by
 * the generator). Only loaded when {@code jdk.incubator.vector} is present; generated code calls these static
 * methods and the JIT inlines them into the loop.
 */
public final class VecOps {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecOps() {}

    /** The species generated loops use: the preferred float species of this machine. */
    public static VectorSpecies<Float> species() { return FloatVector.SPECIES_PREFERRED; }

    public static FloatVector load(VectorSpecies<Float> s, MemorySegment seg, long index) {
        return FloatVector.fromMemorySegment(s, seg, index * 4, ORDER);
    }

    public static void store(FloatVector v, MemorySegment seg, long index) { v.intoMemorySegment(seg, index * 4, ORDER); }

    public static FloatVector broadcast(VectorSpecies<Float> s, float v) { return FloatVector.broadcast(s, v); }

    public static FloatVector add(FloatVector a, FloatVector b) { return a.add(b); }

    public static FloatVector sub(FloatVector a, FloatVector b) { return a.sub(b); }

    public static FloatVector mul(FloatVector a, FloatVector b) { return a.mul(b); }

    public static FloatVector div(FloatVector a, FloatVector b) { return a.div(b); }

    public static FloatVector maximum(FloatVector a, FloatVector b) { return a.max(b); }

    public static FloatVector minimum(FloatVector a, FloatVector b) { return a.min(b); }

    public static FloatVector neg(FloatVector x) { return x.neg(); }

    public static FloatVector relu(FloatVector x) { return x.max(FloatVector.zero(x.species())); }

    public static FloatVector abs(FloatVector x) { return x.abs(); }

    public static FloatVector sigmoid(FloatVector x) {
        FloatVector one = FloatVector.broadcast(x.species(), 1f);
        return one.div(VectorExp.exp(x.neg()).add(one));
    }

    public static FloatVector tanh(FloatVector x) { return x.lanewise(VectorOperators.TANH); }

    public static FloatVector exp(FloatVector x) { return VectorExp.exp(x); }

    public static FloatVector log(FloatVector x) { return x.lanewise(VectorOperators.LOG); }

    public static FloatVector sqrt(FloatVector x) { return x.sqrt(); }

    public static FloatVector rsqrt(FloatVector x) { return FloatVector.broadcast(x.species(), 1f).div(x.sqrt()); }

    public static FloatVector reciprocal(FloatVector x) { return FloatVector.broadcast(x.species(), 1f).div(x); }

    public static FloatVector silu(FloatVector x) { return x.div(VectorExp.exp(x.neg()).add(1f)); }

    /** PyTorch's tanh approximation: {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    public static FloatVector geluTanh(FloatVector x) {
        FloatVector inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul((float) Math.sqrt(2 / Math.PI));
        return x.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f));
    }

    public static FloatVector leakyRelu(FloatVector x, float slope) {
        VectorMask<Float> positive = x.compare(VectorOperators.GT, 0f);
        return x.mul(slope).blend(x, positive);
    }

    public static FloatVector elu(FloatVector x, float alpha) {
        VectorMask<Float> nonPositive = x.compare(VectorOperators.LE, 0f);
        return x.blend(x.lanewise(VectorOperators.EXPM1).mul(alpha), nonPositive);
    }

    public static FloatVector clamp(FloatVector x, float lo, float hi) { return x.max(lo).min(hi); }

    public static FloatVector identity(VectorSpecies<Float> s, int reduction) {
        return FloatVector.broadcast(s, ScalarF32.identity(reduction));
    }

    public static FloatVector combine(int reduction, FloatVector acc, FloatVector v) {
        return switch (reduction) {
            case ScalarF32.Reduction.MAX -> acc.max(v);
            case ScalarF32.Reduction.MIN -> acc.min(v);
            default -> acc.add(v);
        };
    }

    /** Max and min in any order; sums in the fixed order of {@link VectorLanes}, the same in every JIT tier. */
    public static float reduce(int reduction, FloatVector acc) {
        return switch (reduction) {
            case ScalarF32.Reduction.MAX -> acc.reduceLanes(VectorOperators.MAX);
            case ScalarF32.Reduction.MIN -> acc.reduceLanes(VectorOperators.MIN);
            default -> {
                float[] lanes = VectorLanes.floats();
                acc.intoArray(lanes, 0);
                yield VectorLanes.sum(lanes, 0);
            }
        };
    }
}
