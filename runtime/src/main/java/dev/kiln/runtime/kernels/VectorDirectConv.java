package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.kiln.runtime.Elements.F32;

/**
 * {@link F32DirectConv} on the Vector API: a register tile of 6 filters x 3 vectors of wide positions (18
 * accumulators) runs through every tap, loading 3 input vectors and broadcasting 6 weights per tap, so each loaded
 * vector feeds 6 fused multiply-adds. Only loaded when {@code jdk.incubator.vector} is present, so nothing else in the
 * runtime may refer to this class directly.
 */
final class VectorDirectConv implements F32DirectConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int FILTERS = 6, VECTORS = 3;
    /** Half the preferred width: the pooled outputs of one vector of a wide row. */
    @SuppressWarnings("unchecked")
    private static final VectorSpecies<Float> HALF = (VectorSpecies<Float>) VectorSpecies.of(float.class,
            VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final int HL = HALF.length();
    /** Lane l takes lane l+1 (the last lane wraps to lane 0; it is odd, so never kept). */
    private static final VectorShuffle<Float> NEXT = VectorShuffle.fromOp(S, i -> (i + 1) % L);
    /** Lane l < L/2 takes lane 2l: the even lanes, packed into the low half. */
    private static final VectorShuffle<Float> PACK = VectorShuffle.fromOp(S, i -> (2 * i) % L);

    VectorDirectConv() {}

    @Override
    public int lanes() { return L; }

    @Override
    public int filtersPerTile() { return FILTERS; }

    @Override
    public int vectorsPerTile() { return VECTORS; }

    @Override
    public void convolve(float[] filters, int m, int k, int[] taps, float[] padded, int vectors, float[] wide, int widePlane) {
        for (int ob = 0; ob < m; ob += FILTERS) {
            int o = Math.max(0, Math.min(ob, m - FILTERS));
            // the tile's filters, the last one repeated when m < FILTERS: their rows and wide planes
            int o1 = Math.min(o + 1, m - 1), o2 = Math.min(o + 2, m - 1), o3 = Math.min(o + 3, m - 1),
                    o4 = Math.min(o + 4, m - 1), o5 = Math.min(o + 5, m - 1);
            int f0 = k * o, f1 = k * o1, f2 = k * o2, f3 = k * o3, f4 = k * o4, f5 = k * o5;
            for (int vb = 0; vb < vectors; vb += VECTORS) {
                int v = Math.max(0, Math.min(vb, vectors - VECTORS));
                int p0 = L * v, p1 = L * Math.min(v + 1, vectors - 1), p2 = L * Math.min(v + 2, vectors - 1);
                FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00,
                        a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00,
                        a40 = a00, a41 = a00, a42 = a00, a50 = a00, a51 = a00, a52 = a00;
                // one flat loop over the taps (nested loops over channels and kernel rows and columns ran at half speed)
                for (int t = 0; t < k; t++) {
                    int at = taps[t];
                    FloatVector x0 = FloatVector.fromArray(S, padded, at + p0);
                    FloatVector x1 = FloatVector.fromArray(S, padded, at + p1);
                    FloatVector x2 = FloatVector.fromArray(S, padded, at + p2);
                    FloatVector b = FloatVector.broadcast(S, filters[f0 + t]);
                    a00 = x0.fma(b, a00); a01 = x1.fma(b, a01); a02 = x2.fma(b, a02);
                    b = FloatVector.broadcast(S, filters[f1 + t]);
                    a10 = x0.fma(b, a10); a11 = x1.fma(b, a11); a12 = x2.fma(b, a12);
                    b = FloatVector.broadcast(S, filters[f2 + t]);
                    a20 = x0.fma(b, a20); a21 = x1.fma(b, a21); a22 = x2.fma(b, a22);
                    b = FloatVector.broadcast(S, filters[f3 + t]);
                    a30 = x0.fma(b, a30); a31 = x1.fma(b, a31); a32 = x2.fma(b, a32);
                    b = FloatVector.broadcast(S, filters[f4 + t]);
                    a40 = x0.fma(b, a40); a41 = x1.fma(b, a41); a42 = x2.fma(b, a42);
                    b = FloatVector.broadcast(S, filters[f5 + t]);
                    a50 = x0.fma(b, a50); a51 = x1.fma(b, a51); a52 = x2.fma(b, a52);
                }
                int q0 = widePlane * o, q1 = widePlane * o1, q2 = widePlane * o2, q3 = widePlane * o3, q4 = widePlane * o4,
                        q5 = widePlane * o5;
                a00.intoArray(wide, q0 + p0); a01.intoArray(wide, q0 + p1); a02.intoArray(wide, q0 + p2);
                a10.intoArray(wide, q1 + p0); a11.intoArray(wide, q1 + p1); a12.intoArray(wide, q1 + p2);
                a20.intoArray(wide, q2 + p0); a21.intoArray(wide, q2 + p1); a22.intoArray(wide, q2 + p2);
                a30.intoArray(wide, q3 + p0); a31.intoArray(wide, q3 + p1); a32.intoArray(wide, q3 + p2);
                a40.intoArray(wide, q4 + p0); a41.intoArray(wide, q4 + p1); a42.intoArray(wide, q4 + p2);
                a50.intoArray(wide, q5 + p0); a51.intoArray(wide, q5 + p1); a52.intoArray(wide, q5 + p2);
            }
        }
    }

    @Override
    public void compact(float[] wide, int widePlane, int wp, int m, int oh, int ow, MemorySegment out, long at) {
        long end = at + (long) m * oh * ow;
        for (int o = 0; o < m; o++) {
            for (int y = 0; y < oh; y++) {
                int from = o * widePlane + y * wp;
                long to = at + ((long) o * oh + y) * ow;
                if (ow >= L) {
                    // whole vectors, the last one ending at the row's end (overlapping the one before it)
                    for (int x = 0; x < ow; x += L) {
                        int col = Math.min(x, ow - L);
                        FloatVector.fromArray(S, wide, from + col).intoMemorySegment(out, 4 * (to + col), ORDER);
                    }
                } else if (to + L <= end) {
                    // a whole vector: the lanes past the row land on the next rows, written after this one
                    FloatVector.fromArray(S, wide, from).intoMemorySegment(out, 4 * to, ORDER);
                } else {
                    for (int x = 0; x < ow; x++) out.setAtIndex(F32, to + x, wide[from + x]);
                }
            }
        }
    }

    @Override
    public void poolRelu(float[] wide, int widePlane, int wp, int m, int oh, int ow, float[] bias, MemorySegment out, long at) {
        int poh = oh / 2, pow = ow / 2;
        long end = at + (long) m * poh * pow;
        FloatVector zero = FloatVector.zero(S);
        for (int o = 0; o < m; o++) {
            FloatVector b = FloatVector.broadcast(S, bias == null ? 0f : bias[o]);
            for (int py = 0; py < poh; py++) {
                int top = o * widePlane + 2 * py * wp, bottom = top + wp;
                long to = at + ((long) o * poh + py) * pow;
                for (int px = 0; px < pow; px += HL) {
                    // whole half-vectors of outputs; the last one ends at the row's end when the row has one, else its
                    // lanes past the row land on the next rows, written after this one (unless they pass the end)
                    int col = pow >= HL ? Math.min(px, pow - HL) : 0;
                    if (pow < HL && to + HL > end) {
                        for (int x = 0; x < pow; x++) {
                            int t = top + 2 * x, u = bottom + 2 * x;
                            float v = Math.max(Math.max(wide[t], wide[t + 1]), Math.max(wide[u], wide[u + 1]));
                            out.setAtIndex(F32, to + x, Math.max(v + (bias == null ? 0f : bias[o]), 0f));
                        }
                        break;
                    }
                    FloatVector v = FloatVector.fromArray(S, wide, top + 2 * col).max(FloatVector.fromArray(S, wide, bottom + 2 * col));
                    v = v.max(v.rearrange(NEXT)).rearrange(PACK).add(b).max(zero);
                    v.reinterpretShape(HALF, 0).intoMemorySegment(out, 4 * (to + col), ORDER);
                }
            }
        }
    }
}
