package dev.kiln.tests;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrPrinter;
import dev.kiln.ir.testing.RandomGraphs;
import dev.kiln.onnx.ExportOptions;
import dev.kiln.onnx.proto.OnnxProtos.ModelProto;
import dev.kiln.runtime.NDArray;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Random verified graphs ({@link RandomGraphs}: every op kind, constants of every dtype, if/loop
 * regions, host scalars, a symbolic batch N) export at a random opset from 13 to 21, pass the official
 * checker with full check, and run in ONNX Runtime with outputs equal to the Kiln interpreter's
 * (rtol 1e-4, atol 1e-5, NaN where Kiln has NaN; {@link OnnxParity}) at two sizes of N. ONNX Runtime
 * runs them with its graph rewrites off: with them on, ORT 1.22 aborts the whole JVM on an internal
 * assertion for some of these graphs (its optimised path is covered by the per-op and model tests).
 */
class RandomGraphOnnxPropertyTest {

    @Property(tries = 80)
    void randomGraphsExportCheckAndMatchTheInterpreter(@ForAll("graphs") Graph g, @ForAll("opsets") int opset) {
        // Graphs holding finite near-FLT_MAX constants are left out: intermediate sums then overflow f32 in
        // ONNX Runtime but not in Kiln's double accumulators. Infinite constants stay in (sum/mean keep +-inf).
        Assume.that(!hasHugeConstant(g.body()));
        // Storage-only dtypes (f8, i4, ...) need opsets up to 25 and ONNX Runtime runs few ops on them;
        // their export is checked against ORT in OnnxTypesTest.
        Assume.that(!usesStorageOnlyDType(g.body()));
        Random random = new Random(IrPrinter.print(g).hashCode());
        Map<String, NDArray> weights = OnnxParity.randomWeights(g, random);
        List<List<NDArray>> inputs = List.of(OnnxParity.randomInputs(g, 2, random), OnnxParity.randomInputs(g, 3, random));
        ModelProto m = null;
        try {
            m = OnnxParity.exportChecked(g, weights, ExportOptions.defaults().withOpset(opset));
        } catch (dev.kiln.onnx.OnnxExportException e) {
            // a storage-only dtype (int4, float8e8m0, int2, ...) that ONNX has only from a later opset is refused by
            // design (OnnxTypesTest covers the message); such a draw says nothing about parity
            if (!e.getMessage().contains(" only from opset ")) throw failure(e, opset, g);
        } catch (AssertionError | RuntimeException e) {
            throw failure(e, opset, g);
        }
        Assume.that(m != null);
        try {
            OnnxParity.assertMatches("random graph", g, m, weights, inputs, false);
        } catch (AssertionError | RuntimeException e) {
            throw failure(e, opset, g);
        }
    }

    private static AssertionError failure(Throwable e, int opset, Graph g) {
        return new AssertionError(e.getMessage() + "\nat opset " + opset + ", graph:\n" + IrPrinter.print(g), e);
    }

    private static boolean hasHugeConstant(dev.kiln.ir.Block block) {
        for (dev.kiln.ir.Op op : block.ops()) {
            if (op.name().equals("constant") && op.attr("value") instanceof dev.kiln.ir.Attribute.Tensor t
                    && t.type().dtype().isFloatingPoint()) {
                for (double v : dev.kiln.runtime.Interpreter.fromBytes(t.type(), t.data()).toDoubleArray()) {
                    if (Math.abs(v) > 1e30 && !Double.isInfinite(v)) return true;
                }
            }
            for (dev.kiln.ir.Block r : op.regions()) if (hasHugeConstant(r)) return true;
        }
        return false;
    }

    private static boolean usesStorageOnlyDType(dev.kiln.ir.Block block) {
        for (dev.kiln.ir.Op op : block.ops()) {
            for (dev.kiln.ir.Value r : op.results()) {
                if (r.type() instanceof dev.kiln.ir.TensorType t && t.dtype().isStorageOnly()) return true;
            }
            for (dev.kiln.ir.Block region : op.regions()) if (usesStorageOnlyDType(region)) return true;
        }
        return false;
    }

    @Provide
    Arbitrary<Graph> graphs() { return RandomGraphs.graphs(); }

    @Provide
    Arbitrary<Integer> opsets() { return Arbitraries.integers().between(13, 21); }
}
