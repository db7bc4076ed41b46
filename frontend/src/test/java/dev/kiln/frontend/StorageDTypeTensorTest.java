package dev.kiln.frontend;

import dev.kiln.ir.DType;
import dev.kiln.ir.IrException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Eager tensors of storage-only dtypes: casts and views work, arithmetic and implicit promotion are refused. */
class StorageDTypeTensorTest {

    @Test
    void castAndMoveButNoArithmetic() {
        Tensor x = Tensor.of(new float[] {0.3f, -2f, 500f, 1f}, 2, 2);
        Tensor q = x.to(DType.F8E4M3FN);
        assertEquals(DType.F8E4M3FN, q.dtype());
        assertArrayEquals(new float[] {0.3125f, -2f, 448f, 1f}, q.to(DType.F32).toFloatArray());
        assertArrayEquals(new float[] {0.3125f, 448f, -2f, 1f}, q.permute(1, 0).to(DType.F32).toFloatArray());

        IrException e = assertThrows(IrException.class, () -> q.add(q));
        assertEquals("add: does not accept f8e4m3fn tensors (f8e4m3fn is a storage-only dtype); cast to f32 first", e.getMessage());
        assertThrows(IrException.class, () -> q.relu());
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> q.add(x));
        assertEquals("no type promotion between f8e4m3fn and f32: f8e4m3fn is a storage-only dtype; cast it explicitly, "
                + "e.g. to(DType.F32)", p.getMessage());
    }
}
