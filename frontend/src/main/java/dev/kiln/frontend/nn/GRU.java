package dev.kiln.frontend.nn;

import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;

import java.util.List;

/** Gated recurrent unit, gates in PyTorch's order (reset, update, new). */
public final class GRU extends RecurrentNetwork {

    public GRU(int inputSize, int hiddenSize) { this(inputSize, hiddenSize, 1, true, false, 0); }

    public GRU(int inputSize, int hiddenSize, int layers, boolean bias, boolean batchFirst, double dropout) {
        super(3, inputSize, hiddenSize, layers, bias, batchFirst, dropout);
    }

    @Override
    protected Tensor[] step(Tensor projectedInput, Tensor h, Tensor c, Parameter wHh, Parameter bHh) {
        List<Tensor> in = projectedInput.chunk(3, -1), hid = F.linear(h, wHh, bHh).chunk(3, -1);
        Tensor r = in.get(0).add(hid.get(0)).sigmoid();
        Tensor z = in.get(1).add(hid.get(1)).sigmoid();
        Tensor n = in.get(2).add(r.mul(hid.get(2))).tanh();
        // h' = (1 - z) * n + z * h
        return new Tensor[] {n.add(z.mul(h.sub(n))), null};
    }

    @Override
    protected boolean hasCellState() { return false; }
}
