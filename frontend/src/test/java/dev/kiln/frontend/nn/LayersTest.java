package dev.kiln.frontend.nn;

import dev.kiln.frontend.Generator;
import dev.kiln.frontend.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayersTest {

    @Test
    void stateDictKeysMatchPyTorchNames() {
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"),
                List.copyOf(new LSTM(3, 4, 2, true, false, 0).stateDict().keySet()));
        assertEquals(List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
                List.copyOf(new BatchNorm2d(3).stateDict().keySet()));
        assertEquals(List.of("self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
                        "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"),
                List.copyOf(new TransformerEncoderLayer(8, 2, 16, 0.1, false, 1e-5, true, false).stateDict().keySet()));
    }

    @Test
    void loadStateDictChecksEverythingBeforeWriting() {
        Generator.manualSeed(1);
        Linear a = new Linear(3, 2), b = new Linear(3, 2);
        float[] before = b.weight().toFloatArray();
        Map<String, Tensor> bad = new LinkedHashMap<>(a.stateDict());
        bad.put("weight", Tensor.zeros(2, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(bad));
        assertTrue(e.getMessage().contains("key 'weight': expected f32[2, 3], got f32[2, 4]"), e.getMessage());
        assertArrayEquals(before, b.weight().toFloatArray(), "a failed load must change nothing");
        Map<String, Tensor> missing = new LinkedHashMap<>(a.stateDict());
        missing.remove("bias");
        missing.put("extra", Tensor.zeros(1));
        e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(missing));
        assertTrue(e.getMessage().contains("missing key 'bias'") && e.getMessage().contains("unexpected key 'extra'"), e.getMessage());
        b.loadStateDict(a.stateDict());
        assertArrayEquals(a.weight().toFloatArray(), b.weight().toFloatArray());
    }

    @Test
    void batchNormTracksRunningStatisticsLikePyTorch() {
        BatchNorm1d bn = new BatchNorm1d(2);
        Tensor x = Tensor.of(new float[] {1, 10, 3, 20, 5, 30}, 3, 2);   // channel 0: 1,3,5; channel 1: 10,20,30
        Tensor y = bn.forward(x);
        // batch mean (3, 20), biased var (8/3, 200/3); running stats move 10% towards mean and unbiased var (4, 100)
        assertArrayEquals(new float[] {0.3f, 2f}, bn.stateDict().get("running_mean").toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {0.9f + 0.4f, 0.9f + 10f}, bn.stateDict().get("running_var").toFloatArray(), 1e-5f);
        assertArrayEquals(new long[] {1}, bn.stateDict().get("num_batches_tracked").reshape(1).toLongArray());
        double s0 = Math.sqrt(8.0 / 3 + 1e-5);
        assertEquals(-2 / s0, y.toFloatArray()[0], 1e-5);
        bn.eval();
        double r0 = Math.sqrt(1.3 + 1e-5);
        assertEquals((1 - 0.3) / r0, bn.forward(x).toFloatArray()[0], 1e-5);
    }

    @Test
    void recurrentAndAttentionLayersProduceTheRightShapes() {
        Generator.manualSeed(2);
        Tensor seq = Tensor.randn(new Generator(3), 5, 2, 3);   // [T, N, in]
        RecurrentNetwork.Output lstm = new LSTM(3, 4, 2, true, false, 0).run(seq, null, null);
        assertArrayEquals(new long[] {5, 2, 4}, lstm.output().shape());
        assertArrayEquals(new long[] {2, 2, 4}, lstm.hidden().shape());
        assertArrayEquals(new long[] {2, 2, 4}, lstm.cell().shape());
        // The last output step is the top layer's final hidden state.
        assertArrayEquals(lstm.output().select(0, 4).toFloatArray(), lstm.hidden().select(0, 1).toFloatArray());
        RecurrentNetwork.Output gru = new GRU(3, 4, 1, true, true, 0).run(seq.transpose(0, 1), null, null);
        assertArrayEquals(new long[] {2, 5, 4}, gru.output().shape());
        Tensor tokens = Tensor.randn(new Generator(4), 2, 6, 8);   // [N, L, E]
        TransformerEncoderLayer layer = new TransformerEncoderLayer(8, 2, 16, 0.0, true, 1e-5, true, false);
        assertArrayEquals(new long[] {2, 6, 8}, layer.forward(tokens, null, null, true).shape());
    }

    @Test
    void causalAttentionIgnoresTheFuture() {
        Generator.manualSeed(5);
        MultiheadAttention mha = new MultiheadAttention(4, 2, 0, true, true);
        Tensor x = Tensor.randn(new Generator(6), 1, 3, 4);
        Tensor full = mha.attend(x, x, x, null, null, true);
        Tensor changedLast = x.copyTensor();
        try (var _ = dev.kiln.frontend.autograd.Autograd.noGrad()) {
            changedLast.narrow(1, 2, 1).fill_(9);
        }
        Tensor again = mha.attend(changedLast, changedLast, changedLast, null, null, true);
        assertArrayEquals(full.narrow(1, 0, 2).toFloatArray(), again.narrow(1, 0, 2).toFloatArray(), 1e-6f);
    }
}
