package dev.kiln.frontend;

import dev.kiln.ir.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PyTorch aliasing through views (shared storage and version counters), copies that do not alias, and index errors. */
class ViewsAndIndexingTest {

    private static Tensor grid() { return Tensor.arange(0, 12, 1, DType.F32).reshape(3, 4); }

    private static String message(Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    @Test
    void writingThroughNarrowChangesTheBase() {
        Tensor base = grid();
        Tensor v = base.narrow(1, 1, 2);
        assertSame(base.data().segment(), v.data().segment());
        v.add_(100.0);
        assertArrayEquals(new float[] {0, 101, 102, 3, 4, 105, 106, 7, 8, 109, 110, 11}, base.toFloatArray());
        assertEquals(1, base.version());
        assertEquals(1, v.version());
    }

    @Test
    void writingThroughTransposeAndSelectChangesTheBase() {
        Tensor base = grid();
        base.transpose(0, 1).select(0, 3).mul_(-1.0);
        assertArrayEquals(new float[] {0, 1, 2, -3, 4, 5, 6, -7, 8, 9, 10, -11}, base.toFloatArray());
        // select along a non-leading axis is a view too, as in PyTorch (not a copy of a strided column)
        Tensor column = base.select(1, 2);
        assertSame(base.data().segment(), column.data().segment());
        column.fill_(7);
        assertArrayEquals(new float[] {0, 1, 7, -3, 4, 5, 7, -7, 8, 9, 7, -11}, base.toFloatArray());
        assertEquals(2, base.version());
    }

    @Test
    void viewsOfViewsShareOneVersionCounter() {
        Tensor base = grid();
        Tensor a = base.narrow(0, 1, 2), b = a.transpose(0, 1), c = b.slice(0, 0, 4, 2), d = c.unsqueeze(0).squeeze(0);
        d.sub_(1.0);
        for (Tensor t : List.of(base, a, b, c, d)) assertEquals(1, t.version());
        assertArrayEquals(new float[] {0, 1, 2, 3, 3, 5, 5, 7, 7, 9, 9, 11}, base.toFloatArray());
        base.zero_();
        assertEquals(2, d.version());
        assertArrayEquals(new float[4], d.toFloatArray());
    }

    @Test
    void splitAndChunkPiecesAreViews() {
        Tensor base = grid();
        List<Tensor> pieces = base.split(3, 1);
        assertArrayEquals(new long[] {3, 1}, pieces.get(1).shape());
        pieces.get(1).fill_(-5);
        assertArrayEquals(new float[] {-5, -5, -5}, base.select(1, 3).toFloatArray());
        base.chunk(3, 0).get(2).add_(1.0);
        assertArrayEquals(new float[] {9, 10, 11, -4}, base.select(0, 2).toFloatArray());
    }

    @Test
    void expandSharesStorageWithZeroStrides() {
        Tensor row = Tensor.of(new float[] {1, 2, 3}, 1, 3);
        Tensor e = row.expand(2, -1, 3);
        assertArrayEquals(new long[] {2, 1, 3}, e.shape());
        assertSame(row.data().segment(), e.data().segment());
        assertTrue(e.data().hasInternalOverlap());
        row.add_(1.0);
        assertArrayEquals(new float[] {2, 3, 4, 2, 3, 4}, e.toFloatArray());
        assertEquals(1, e.version());
    }

    @Test
    void copiesDoNotAlias() {
        Tensor base = grid();
        List<Tensor> copies = List.of(Tensor.cat(List.of(base), 0), base.pad(new long[] {1, 1}, 0), base.flip(0),
                base.repeat(1, 1), base.tril(0), base.triu(0), base.gather(0, Tensor.zeros(DType.I64, 1, 4)),
                base.indexSelect(1, Tensor.of(new long[] {0, 0})));
        for (Tensor c : copies) {
            assertNotSame(base.data().segment(), c.data().segment());
            c.add_(1.0);
            assertEquals(0, base.version());
        }
        assertArrayEquals(grid().toFloatArray(), base.toFloatArray());
    }

    @Test
    void indexingFollowsPyTorch() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor idx = Tensor.of(new long[] {2, 0, 1, 1}, 2, 2);
        assertArrayEquals(new float[] {3, 1, 5, 5}, x.gather(1, idx).toFloatArray());
        assertArrayEquals(new float[] {3, 1, 6, 4}, x.indexSelect(1, Tensor.of(new int[] {2, 0})).toFloatArray());
        Tensor src = Tensor.of(new float[] {10, 20, 30, 40}, 2, 2);
        assertArrayEquals(new float[] {20, 0, 10, 0, 40, 0}, Tensor.zeros(2, 3).scatter(1, idx, src).toFloatArray());
        Tensor sums = x.scatterAdd(1, Tensor.of(new long[] {1, 1}, 1, 2), Tensor.of(new float[] {5, 7}, 1, 2));
        assertArrayEquals(new float[] {1, 14, 3, 4, 5, 6}, sums.toFloatArray());
    }

    @Test
    void savedIndexModifiedInPlaceIsDetected() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}, 3).setRequiresGrad(true);
        Tensor idx = Tensor.of(new long[] {0, 2});
        Tensor y = x.gather(0, idx);
        idx.copy_(Tensor.of(new long[] {1, 1}));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.sum().backward());
        assertTrue(e.getMessage().contains("'gather'"), e.getMessage());
    }

    @Test
    void badIndicesAndShapesAreClearErrors() {
        Tensor x = grid();
        assertEquals("gather: index 4 is out of range for axis 1 with size 4 (at index position [0, 1])",
                message(() -> x.gather(1, Tensor.of(new long[] {0, 4}, 1, 2))));
        assertEquals("index_select: index -1 is out of range for axis 0 with size 3 (at index position [0])",
                message(() -> x.indexSelect(0, Tensor.of(new long[] {-1}))));
        assertEquals("scatter: index 3 is out of range for axis 0 with size 3 (at index position [0, 0])",
                message(() -> x.scatter(0, Tensor.of(new long[] {3}, 1, 1), Tensor.ones(1, 1))));
        assertEquals("slice: step must be at least 1, got -1", message(() -> x.slice(0, 0, 3, -1)));
        assertEquals("cat: tensor [2, 3] (position 1) does not match [3, 4] in dim 1: sizes 4 and 3 differ",
                message(() -> Tensor.cat(List.of(x, Tensor.zeros(2, 3)), 0)));
        assertEquals("expand: cannot expand [3, 4] to [3, 5]: dim 1 has size 4, which is not 1 and differs from 5",
                message(() -> x.expand(3, 5)));
        assertEquals("tril: input must have at least 2 dims, got shape [4]", message(() -> x.select(0, 0).tril(0)));
        assertEquals("repeat: repeats [2] has fewer entries than the rank 2 of [3, 4]", message(() -> x.repeat(2)));
    }
}
