package dev.kiln.runtime.kernels;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.InferenceContext;
import dev.kiln.ir.IrException;
import dev.kiln.ir.OpRegistry;
import dev.kiln.ir.OpSchema;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Trait;
import dev.kiln.ir.Type;
import dev.kiln.runtime.OpKernels;
import net.jqwik.api.Example;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registry entries of the nn ops: inferred types, errors naming the op, traits, and a kernel for each. */
class NnSchemaTest {

    private static final List<String> OPS = List.of("conv2d", "conv_transpose2d", "conv2d_input_grad", "conv2d_weight_grad",
            "conv_transpose2d_input_grad", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "max_pool2d_grad",
            "avg_pool2d_grad", "adaptive_avg_pool2d_grad", "batch_norm", "layer_norm", "group_norm", "layer_norm_grad",
            "group_norm_grad", "embedding", "embedding_grad", "dropout_mask");

    @Example
    void everyOpHasAKernelAndOnlyDropoutIsImpure() {
        for (String op : OPS) {
            assertTrue(OpKernels.has(op), op);
            assertEquals(!op.equals("dropout_mask"), OpRegistry.get(op).has(Trait.PURE), op);
        }
    }

    @Example
    void inferredShapes() {
        assertEquals(f32(Dim.sym("N"), Dim.of(6), Dim.of(12), Dim.of(5)), infer("conv_transpose2d",
                Builder.attrs("stride", new int[] {2, 1}, "output_padding", new int[] {1, 0}),
                f32(Dim.sym("N"), Dim.of(4), Dim.of(5), Dim.of(3)), f32(4, 6, 3, 3), f32(6)));
        assertEquals(f32(2, 4, 9, 9), infer("conv2d_input_grad", Builder.attrs("input_size", new int[] {9, 9},
                "stride", new int[] {2, 2}), f32(2, 6, 4, 4), f32(6, 4, 3, 3)));
        assertEquals(f32(6, 2, 3, 3), infer("conv2d_weight_grad", Builder.attrs("kernel_size", new int[] {3, 3},
                "groups", 2), f32(2, 4, 9, 9), f32(2, 6, 7, 7)));
        assertEquals(f32(2, 3, 1, 7), infer("adaptive_avg_pool2d", Builder.attrs("output_size", new int[] {1, 7}),
                f32(2, 3, 5, 5)));
        assertEquals(new TensorType(DType.F32, Shape.of(Dim.of(2), Dim.sym("T"), Dim.of(8))), infer("embedding", Map.of(),
                f32(10, 8), new TensorType(DType.I64, Shape.of(Dim.of(2), Dim.sym("T")))));
        assertEquals(f32(10, 8), infer("embedding_grad", Builder.attrs("num_weights", 10), f32(2, 5, 8),
                new TensorType(DType.I64, Shape.of(2, 5))));
        assertEquals(f32(4, 6, 3), infer("group_norm", Builder.attrs("groups", 3), f32(4, 6, 3), f32(6), f32(6)));
        assertEquals(f32(4, 6, 3), infer("layer_norm", Builder.attrs("normalized_dims", 2), f32(4, 6, 3), f32(6, 3)));
        assertEquals(f32(4, 6, 3), infer("batch_norm", Map.of(), f32(4, 6, 3), f32(6), f32(6), f32(6), f32(6)));
    }

    @Example
    void errorsNameTheOpAndTheProblem() {
        assertEquals("conv_transpose2d: output_padding [1, 1] must be smaller than either stride [1, 1] or dilation [1, 1]",
                error("conv_transpose2d", Builder.attrs("output_padding", new int[] {1, 1}), f32(1, 2, 4, 4), f32(2, 1, 3, 3)));
        assertEquals("group_norm: 6 channels of f32[4, 6, 3] are not divisible by groups 4",
                error("group_norm", Builder.attrs("groups", 4), f32(4, 6, 3)));
        assertEquals("layer_norm: weight must have the normalized shape [6, 3], got [3]",
                error("layer_norm", Builder.attrs("normalized_dims", 2), f32(4, 6, 3), f32(3)));
        assertEquals("layer_norm: normalized_dims must be in [1, 3] for f32[4, 6, 3], got 0",
                error("layer_norm", Builder.attrs("normalized_dims", 0), f32(4, 6, 3)));
        assertEquals("batch_norm: var size is 5, expected 6",
                error("batch_norm", Map.of(), f32(4, 6, 3), f32(6), f32(5)));
        assertEquals("embedding: padding_idx must be -1 (none) or in [0, 10), got 10",
                error("embedding", Builder.attrs("padding_idx", 10), f32(10, 8), new TensorType(DType.I64, Shape.of(3))));
        assertEquals("embedding: indices must be i64 or i32, got f32[3]",
                error("embedding", Map.of(), f32(10, 8), f32(3)));
        assertEquals("dropout_mask: p must be in [0, 1], got -0.1", error("dropout_mask", Builder.attrs("p", -0.1), f32(3)));
        assertEquals("max_pool2d_grad: grad_out [1, 1, 3, 3] does not match the pooled shape [1, 1, 2, 2]",
                error("max_pool2d_grad", Builder.attrs("kernel_size", new int[] {2, 2}, "stride", new int[] {2, 2}),
                        f32(1, 1, 3, 3), f32(1, 1, 4, 4)));
        assertEquals("conv2d_weight_grad: grad_out [1, 2, 5, 5] has 5 positions along spatial dim 0 but the convolution"
                + " of [1, 2, 6, 6] gives only 4", error("conv2d_weight_grad", Builder.attrs("kernel_size", new int[] {3, 3}),
                f32(1, 2, 6, 6), f32(1, 2, 5, 5)));
        assertFalse(error("adaptive_avg_pool2d", Builder.attrs("output_size", new int[] {-1, 2}), f32(1, 1, 4, 4)).isEmpty());
    }

    private static TensorType f32(long... dims) { return TensorType.of(DType.F32, dims); }

    private static TensorType f32(Dim... dims) { return TensorType.of(DType.F32, dims); }

    private static Type infer(String op, Map<String, Attribute> attrs, Type... operands) {
        OpSchema s = OpRegistry.get(op);
        List<Type> types = List.of(operands);
        s.checkOperands(types);
        s.checkAttributes(attrs);
        List<Type> out = s.inference().infer(new InferenceContext(s, types, attrs, List.of()));
        assertEquals(1, out.size());
        return out.get(0);
    }

    private static String error(String op, Map<String, Attribute> attrs, Type... operands) {
        return assertThrows(IrException.class, () -> infer(op, attrs, operands)).getMessage();
    }
}
